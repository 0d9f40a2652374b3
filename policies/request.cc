#include "policies/request.h"

namespace orchsim {
namespace {

// ASCII case folding: header names are ASCII tokens (RFC 9110), and
// std::tolower consults the locale on every character.
inline unsigned char FoldAscii(unsigned char c) {
  return static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (FoldAscii(static_cast<unsigned char>(a[i])) !=
        FoldAscii(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

namespace {

constexpr std::string_view kPriorityNames[] = {"CRITICAL", "HIGH", "NORMAL", "LOW", "PREFETCH"};
constexpr std::string_view kOutcomeNames[] = {"served",
                                              "cache_hit",
                                              "coalesced",
                                              "served_stale",
                                              "failed",
                                              "shed",
                                              "rejected_circuit_open",
                                              "rejected_quota",
                                              "timed_out",
                                              "cancelled",
                                              "rejected_throttled"};
constexpr std::string_view kCallKindNames[] = {"first_attempt", "retry", "probe",
                                               "prefetch",      "batch", "hedge"};

// Answers carry a few headers (a quota style sets three or four): room for
// them with the first, instead of growing 1, 2, 4 and moving the strings.
void ReserveFirst(std::vector<std::pair<std::string, std::string>>& entries) {
  constexpr size_t kFirstCapacity = 4;
  if (entries.capacity() == 0) entries.reserve(kFirstCapacity);
}

}  // namespace

std::string_view PriorityName(Priority p) { return kPriorityNames[static_cast<int>(p)]; }

std::optional<Priority> ParsePriority(std::string_view name) {
  for (int i = 0; i < kPriorityCount; ++i) {
    if (kPriorityNames[i] == name) return static_cast<Priority>(i);
  }
  return std::nullopt;
}

BodyPtr MakeBody(std::string content_type, std::string bytes) {
  return std::make_shared<const Body>(Body{std::move(content_type), std::move(bytes)});
}

std::string_view OutcomeName(Outcome o) { return kOutcomeNames[static_cast<int>(o)]; }
std::string_view CallKindName(CallKind k) { return kCallKindNames[static_cast<int>(k)]; }

Headers::Headers(std::initializer_list<std::pair<std::string, std::string>> entries) {
  for (const auto& [name, value] : entries) Set(name, value);
}

void Headers::Set(std::string name, std::string value) {
  for (auto& entry : entries_) {
    if (EqualsIgnoreCase(entry.first, name)) {
      entry.second = std::move(value);
      return;
    }
  }
  ReserveFirst(entries_);
  entries_.emplace_back(std::move(name), std::move(value));
}

void Headers::Add(std::string_view name, std::string_view value) {
  for (auto& entry : entries_) {
    if (EqualsIgnoreCase(entry.first, name)) {
      entry.second.append(", ").append(value);
      return;
    }
  }
  ReserveFirst(entries_);
  entries_.emplace_back(std::string(name), std::string(value));
}

const std::string* Headers::Find(std::string_view name) const {
  for (const auto& entry : entries_) {
    if (EqualsIgnoreCase(entry.first, name)) return &entry.second;
  }
  return nullptr;
}

}  // namespace orchsim
