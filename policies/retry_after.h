// retry_after.h — parsing of the HTTP Retry-After header (RFC 9110 §10.2.3).
//
// Retry-After is either delay-seconds ("120") or an HTTP-date in IMF-fixdate
// form ("Sun, 06 Nov 1994 08:49:37 GMT"); the obsolete RFC 850 and asctime
// forms are not accepted. Returns the instant from which a retry is allowed,
// or nullopt for a missing or malformed value (callers count those).
#ifndef ORCHSIM_POLICIES_RETRY_AFTER_H_
#define ORCHSIM_POLICIES_RETRY_AFTER_H_

#include <optional>
#include <string_view>

#include "policies/time.h"

namespace orchsim {

std::optional<Instant> ParseRetryAfter(std::string_view value, Instant now);
// IMF-fixdate only; nullopt when malformed.
std::optional<Instant> ParseHttpDate(std::string_view value);

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_RETRY_AFTER_H_
