// field_error.h — a failed validate() Status as a ConfigError at the JSON
// path of the field it names.
//
// The world's config structs validate themselves and name the failing field
// with dots in the file's spelling, under a prefix that says which object it
// is ("upstreams.odds.latency.max: ...", "demand.views.request.key: ...",
// "demand[1].name: ..."). A reader that has just read that object (at JSON
// path "/upstreams/odds") turns the message into
//   FILE: /upstreams/odds/latency/max: "100ms" must be >= latency.min ("300ms")
// so a user is pointed at the key as written, never at a struct member.
#ifndef ORCHSIM_ENGINE_SCENARIO_FIELD_ERROR_H_
#define ORCHSIM_ENGINE_SCENARIO_FIELD_ERROR_H_

#include <string>

#include "engine/scenario/json.h"
#include "policies/status.h"

namespace orchsim::scenario {

// The error for a failed `status` of the object `reader` stands for, whose
// validate() prefixes its field names with `prefix` ("upstreams.odds.").
// When the message starts with prefix + FIELD + ": ", FIELD ("latency.max",
// "steps[1].from") becomes a JSON path under reader.path(); otherwise the
// message is kept whole at reader.path(). REQUIRES: !status.ok().
ConfigError FieldErrorAt(const ObjectReader& reader, const std::string& prefix,
                         const Status& status);
// The same for an object at `path` of `file` (e.g. an array, "/demand").
ConfigError FieldErrorAt(const std::string& file, const std::string& path,
                         const std::string& prefix, const Status& status);

}  // namespace orchsim::scenario

#endif  // ORCHSIM_ENGINE_SCENARIO_FIELD_ERROR_H_
