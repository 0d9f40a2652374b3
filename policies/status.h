// status.h — errors as values at the core's boundaries (LevelDB's Status).
//
// Config structs return a Status from validate(); a failed Status names the
// field, the value and the constraint, e.g.
//   "token_bucket.burst: -1 must be >= 1".
#ifndef ORCHSIM_POLICIES_STATUS_H_
#define ORCHSIM_POLICIES_STATUS_H_

#include <cassert>
#include <charconv>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace orchsim {

class Status {
 public:
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }
  // "OK" or "invalid argument: <message>".
  std::string ToString() const { return ok() ? "OK" : "invalid argument: " + message_; }

 private:
  Status() = default;
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

// StatusOr<T> — a value, or the Status saying why there is none (a factory's
// result). Accessing the value of a failed StatusOr is a programming error.
template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "StatusOr needs a value or a failed Status");
  }
  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_ = Status::Ok();
  std::optional<T> value_;
};

// The shortest text that reads back as the same double: "0.5", "-1", "1e+300",
// "nan", "inf" (std::to_string would print "0.500000").
inline std::string ShortestText(double value) {
  char buffer[32];
  const std::to_chars_result end = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end.ptr);
}

// Builds "<field>: <value> <constraint>", the one shape every validate() uses.
// Strings are quoted, floating-point values in their shortest form.
template <typename V>
Status FieldError(const std::string& field, const V& value, const std::string& constraint) {
  if constexpr (std::is_convertible_v<V, std::string>) {
    return Status::InvalidArgument(field + ": \"" + std::string(value) + "\" " + constraint);
  } else if constexpr (std::is_floating_point_v<V>) {
    return Status::InvalidArgument(field + ": " + ShortestText(value) + " " + constraint);
  } else {
    return Status::InvalidArgument(field + ": " + std::to_string(value) + " " + constraint);
  }
}

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_STATUS_H_
