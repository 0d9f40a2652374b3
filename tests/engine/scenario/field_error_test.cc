// FieldErrorAt: a validate() Status becomes a ConfigError at the JSON path of
// the field it names, in the file's spelling (issue 18, item 11).
#include "engine/scenario/field_error.h"

#include <gtest/gtest.h>

namespace orchsim::scenario {
namespace {

TEST(FieldErrorTest, TheNamedFieldBecomesAJsonPathUnderTheObject) {
  const Json upstream = Json::object();
  const ObjectReader r(upstream, "/upstreams/odds", "s.json");
  const ConfigError e = FieldErrorAt(
      r, "upstreams.odds.", Status::InvalidArgument("upstreams.odds.latency.max: \"1s\" too low"));
  EXPECT_EQ(e.path(), "/upstreams/odds/latency/max");
  EXPECT_STREQ(e.what(), "s.json: /upstreams/odds/latency/max: \"1s\" too low");
}

TEST(FieldErrorTest, IndicesInBracketsBecomePathSegments) {
  const ConfigError e =
      FieldErrorAt("s.json", "/demand/0", "demand.views.",
                   Status::InvalidArgument("demand.views.kickoff_poisson.steps[1].from: bad"));
  EXPECT_EQ(e.path(), "/demand/0/kickoff_poisson/steps/1/from");
  const ConfigError d = FieldErrorAt("s.json", "/demand", "demand",
                                     Status::InvalidArgument("demand[1].name: \"a\" twice"));
  EXPECT_EQ(d.path(), "/demand/1/name");
}

TEST(FieldErrorTest, OtherMessagesStayWholeAtTheObject) {
  const ConfigError e = FieldErrorAt("s.json", "/upstreams/odds", "upstreams.odds.",
                                     Status::InvalidArgument("something else: entirely"));
  EXPECT_EQ(e.path(), "/upstreams/odds");
  EXPECT_EQ(e.message(), "something else: entirely");
}

}  // namespace
}  // namespace orchsim::scenario
