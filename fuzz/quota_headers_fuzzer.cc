// libFuzzer target: the quota-header parser (policies/quota_headers.h) and
// the QuotaTracker that merges what it reads, with hostile header values.
//
// Input: 8 bytes of wall-clock offset (seconds, signed, folded into ±400
// days around 2023-09-11) and 1 byte of mode, then "Name: value" lines
// (LF-separated; a line without ':' is a name with an empty value).
// Contract checked: never crashes, no sanitizer report; what is parsed is
// consistent (remaining and used never above a known limit, credits never
// negative, resets within the horizon, Retry-After in the future), and the
// tracker's admission answers a retry instant not before now.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "policies/quota_headers.h"
#include "policies/quota_tracker.h"

namespace {

using orchsim::Duration;
using orchsim::Instant;

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  int64_t offset_seconds = 0;
  std::memcpy(&offset_seconds, data, sizeof(offset_seconds));
  offset_seconds %= 400LL * 86400;
  const uint8_t mode = data[8];
  const std::string_view text(reinterpret_cast<const char*>(data + 9), size - 9);

  orchsim::Headers headers;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      headers.Set(std::string(line), "");
    } else {
      std::string_view value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      headers.Set(std::string(line.substr(0, colon)), std::string(value));
    }
    start = end + 1;
  }

  const Instant wall =
      *orchsim::ParseInstant("2023-09-11T00:00:00Z") + orchsim::Seconds(offset_seconds);
  const Duration horizon = orchsim::Days(400);
  const orchsim::QuotaHeaders q = orchsim::ParseQuotaHeaders(headers, wall, horizon);
  for (const auto* field : {&q.limit, &q.remaining, &q.used, &q.last}) {
    if (field->has_value()) Check(**field >= 0);
  }
  if (q.limit && q.remaining) Check(*q.remaining <= *q.limit);
  if (q.limit && q.used) Check(*q.used <= *q.limit);
  if (q.reset_at) Check(*q.reset_at >= wall && *q.reset_at - wall <= horizon);
  if (q.retry_after) Check(*q.retry_after > wall);
  Check(q.bad_values >= 0);

  orchsim::QuotaConfig config;
  config.mode = static_cast<orchsim::QuotaMode>(mode % 3);
  config.critical_floor = static_cast<double>(mode % 7);
  orchsim::QuotaTracker tracker(config);
  // The monotonic clock starts at boot; the wall clock is far from it.
  const Instant now = Instant::FromUnixMicros(1'000'000);
  orchsim::Response response;
  response.status = (mode & 0x80) != 0 ? 429 : 200;
  response.headers = headers;
  tracker.Observe(response, now, wall);
  for (const double credits : {0.0, 1.9, 6.0, 1e12}) {
    for (const auto p : orchsim::kAllPriorities) {
      const orchsim::QuotaAdmission a = tracker.Check(p, credits, now);
      Check(a.allowed ? a.retry_at == now : a.retry_at >= now);
    }
  }
  tracker.OnSent(orchsim::Priority::kNormal, 1.9, now);
  tracker.Observe(response, now + orchsim::Seconds(1), wall + orchsim::Seconds(1));
  const orchsim::QuotaSnapshot s = tracker.SnapshotAt(now + orchsim::Days(500));
  if (s.remaining) Check(*s.remaining >= 0);
  return 0;
}
