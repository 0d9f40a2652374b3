// json_reader.h — strict, path-aware reading of policy presets and scenario JSON.
//
// Every read names its place: errors carry the file, the JSON path
// ("/upstreams/odds/latency/p99") and what was expected, e.g.
//   scenarios/x.json: /retry/base: expected a duration string with a unit
//   such as "250ms", got 250
// Unknown keys are errors too (a typo must not silently fall back to a
// default): ObjectReader::Finish() lists the keys it accepts.
//
// Contract: readers throw ConfigError; the loaders catch it at their
// boundary and turn it into an error value. Optional fields leave the output
// untouched when absent, so defaults live in the config structs.
#ifndef ORCHSIM_POLICIES_CONFIG_JSON_READER_H_
#define ORCHSIM_POLICIES_CONFIG_JSON_READER_H_

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "policies/time.h"

namespace orchsim::config {

using Json = nlohmann::json;

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, std::string path, std::string message);
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_, path_, message_;
};

// "string", "number", "object", ... for messages.
std::string JsonTypeName(const Json& j);
// A short rendering of a value for messages (truncated).
std::string JsonPreview(const Json& j);

class ObjectReader {
 public:
  // Throws unless `j` is an object.
  ObjectReader(const Json& j, std::string path, std::string file);

  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  std::string PathOf(const std::string& key) const { return path_ + "/" + key; }
  bool Has(const std::string& key) const;
  // Marks `key` as known without reading it.
  void Allow(const std::string& key) { known_.insert(key); }
  [[noreturn]] void Fail(const std::string& key, const std::string& message) const;

  // Each reader: `required` throws when absent; otherwise absent leaves *out.
  void Bool(const std::string& key, bool* out, bool required = false);
  void Number(const std::string& key, double* out, bool required = false, double min = -1e300,
              double max = 1e300);
  void Int(const std::string& key, int64_t* out, bool required = false, int64_t min = INT64_MIN,
           int64_t max = INT64_MAX);
  void Int(const std::string& key, int* out, bool required = false, int min = INT32_MIN,
           int max = INT32_MAX);
  void String(const std::string& key, std::string* out, bool required = false);
  // A duration string with a unit; min/max inclusive.
  void Dur(const std::string& key, Duration* out, bool required = false,
           Duration min = Duration::Zero(), Duration max = Duration::Infinite());
  void Inst(const std::string& key, Instant* out, bool required = false);
  void Strings(const std::string& key, std::vector<std::string>* out, bool required = false);
  void Ints(const std::string& key, std::vector<int>* out, bool required = false);
  void Durs(const std::string& key, std::vector<Duration>* out, bool required = false);
  // One of `choices` (by name).
  template <typename T>
  void Enum(const std::string& key, T* out, const std::map<std::string, T>& choices,
            bool required = false) {
    std::string name;
    if (!Has(key)) {
      Known(key, required);
      return;
    }
    String(key, &name, required);
    auto it = choices.find(name);
    if (it == choices.end()) {
      std::string list;
      for (const auto& [n, v] : choices) list += (list.empty() ? "" : ", ") + ("\"" + n + "\"");
      Fail(key, "expected one of " + list + ", got \"" + name + "\"");
    }
    *out = it->second;
  }
  // A nested object reader (throws when absent and required, or not an object).
  ObjectReader Object(const std::string& key) const;
  // The raw value (marks the key known). REQUIRES: Has(key).
  const Json& Raw(const std::string& key);
  // The array at key (throws ConfigError when missing or not an array).
  const Json& Array(const std::string& key);

  // Calls read(nested) with the object at `key` when present, then checks the
  // nested object for unknown keys.
  template <typename Read>
  void IfObject(const std::string& key, Read read) {
    Known(key, false);
    if (!Has(key)) return;
    ObjectReader nested = Object(key);
    read(nested);
    nested.Finish();
  }
  // When `key` is present: *out becomes one element per object of the array,
  // each default-constructed, filled by read(element_reader, &element) and
  // checked for unknown keys.
  template <typename Element, typename Read>
  void ObjectArray(const std::string& key, std::vector<Element>* out, Read read) {
    Known(key, false);
    if (!Has(key)) return;
    const Json& array = Array(key);
    std::vector<Element> elements;
    for (size_t i = 0; i < array.size(); ++i) {
      ObjectReader element(array[i], PathOf(key) + "/" + std::to_string(i), file_);
      Element value{};
      read(element, &value);
      element.Finish();
      elements.push_back(std::move(value));
    }
    *out = std::move(elements);
  }
  // The member names of the object at `key` (sorted; none when absent or not an object).
  std::vector<std::string> Keys(const std::string& key) const;

  // Throws on the first key that no reader asked for.
  void Finish() const;

 private:
  void Known(const std::string& key, bool required);
  const Json& json_;
  std::string path_;
  std::string file_;
  std::set<std::string> known_;
};

// Parses JSON text; malformed text throws ConfigError(file, "", "malformed
// JSON: <where and why>"). An object naming a key twice throws
// ConfigError(file, "/path/to/key", "duplicate key ...") for the first such
// key (the JSON text is valid, but one of the two values would be dropped).
Json ParseJsonOrThrow(const std::string& text, const std::string& file);

// Reads a duration from a JSON value at `path` (for array elements).
Duration ReadDuration(const Json& j, const std::string& path, const std::string& file);

}  // namespace orchsim::config

#endif  // ORCHSIM_POLICIES_CONFIG_JSON_READER_H_
