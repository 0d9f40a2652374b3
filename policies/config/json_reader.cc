#include "policies/config/json_reader.h"

#include <cmath>
#include <optional>

namespace orchsim::config {

ConfigError::ConfigError(std::string file, std::string path, std::string message)
    : std::runtime_error(file + ": " + (path.empty() ? "" : path + ": ") + message),
      file_(std::move(file)),
      path_(std::move(path)),
      message_(std::move(message)) {}

std::string JsonTypeName(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "a number";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    default:
      return "an unsupported value";
  }
}

std::string JsonPreview(const Json& j) {
  std::string s = j.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

namespace {

// A SAX pass that finds the first object naming one key twice. nlohmann's
// DOM parser keeps the last value silently, so a second "limit" in an
// upstream would override the first without a word.
class DuplicateKeyFinder : public nlohmann::json_sax<Json> {
 public:
  // The JSON path of the first duplicate ("/upstreams/odds/limit"), "" if none.
  const std::string& duplicate() const { return duplicate_; }

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override {
    frames_.push_back(Frame{true, {}, "", 0});
    return true;
  }
  bool key(string_t& key) override {
    Frame& f = frames_.back();
    if (!f.keys.insert(key).second) {
      duplicate_ = Path() + "/" + key;
      return false;  // stop: one error is reported
    }
    f.key = key;
    return true;
  }
  bool end_object() override { return Leave(); }
  bool start_array(std::size_t) override {
    frames_.push_back(Frame{false, {}, "", 0});
    return true;
  }
  bool end_array() override { return Leave(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;  // the DOM parse reports malformed text
  }

 private:
  struct Frame {
    bool object;
    std::set<std::string> keys;
    std::string key;  // the member being read (objects)
    size_t next = 0;  // the element being read (arrays)
  };
  // A value (scalar or whole container) ended inside the current frame.
  bool Value() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().next;
    return true;
  }
  bool Leave() {
    frames_.pop_back();
    return Value();
  }
  std::string Path() const {
    std::string path;
    for (size_t i = 0; i + 1 < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      path += "/" + (f.object ? f.key : std::to_string(f.next));
    }
    return path;
  }

  std::vector<Frame> frames_;
  std::string duplicate_;
};

}  // namespace

Json ParseJsonOrThrow(const std::string& text, const std::string& file) {
  try {
    Json json = Json::parse(text);
    DuplicateKeyFinder finder;
    Json::sax_parse(text, &finder);
    if (!finder.duplicate().empty()) {
      const std::string& path = finder.duplicate();
      const std::string key = path.substr(path.rfind('/') + 1);
      throw ConfigError(file, path,
                        "duplicate key \"" + key +
                            "\": expected each key once per object (JSON parsers keep only "
                            "one of the values)");
    }
    return json;
  } catch (const Json::exception& e) {
    // nlohmann reports "[json.exception.parse_error.101] parse error at line 3,
    // column 5: ..."; keep the part after the tag. Not only parse_error: a
    // number too large for a double ("1E400") is an out_of_range (406).
    std::string what = e.what();
    const size_t tag_end = what.find("] ");
    if (tag_end != std::string::npos) what = what.substr(tag_end + 2);
    throw ConfigError(file, "", "malformed JSON: " + what);
  }
}

namespace {

// "in [1, 599]", ">= 1" (no upper bound given) or "<= 10".
std::string IntRange(int64_t min, int64_t max) {
  const bool has_max = max != INT64_MAX;
  if (min == INT64_MIN) return has_max ? "<= " + std::to_string(max) : "";
  if (!has_max) return ">= " + std::to_string(min);
  return "in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
}

// The integer `v` when it lies in [min, max]; nullopt otherwise, including
// unsigned values beyond int64 (get<int64_t>() would wrap them).
// REQUIRES: v.is_number_integer().
std::optional<int64_t> IntegerIn(const Json& v, int64_t min, int64_t max) {
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return std::nullopt;
  }
  const int64_t i = v.get<int64_t>();
  if (i < min || i > max) return std::nullopt;
  return i;
}

}  // namespace

ObjectReader::ObjectReader(const Json& j, std::string path, std::string file)
    : json_(j), path_(std::move(path)), file_(std::move(file)) {
  if (!j.is_object()) {
    throw ConfigError(file_, path_,
                      std::string(path_.empty() ? "expected a JSON object at the top level"
                                                : "expected an object") +
                          ", got " + JsonTypeName(j));
  }
}

bool ObjectReader::Has(const std::string& key) const { return json_.contains(key); }

void ObjectReader::Fail(const std::string& key, const std::string& message) const {
  throw ConfigError(file_, PathOf(key), message);
}

void ObjectReader::Known(const std::string& key, bool required) {
  known_.insert(key);
  if (required && !Has(key)) throw ConfigError(file_, PathOf(key), "required field is missing");
}

void ObjectReader::Bool(const std::string& key, bool* out, bool required) {
  Known(key, required);
  if (!Has(key)) return;
  const Json& v = json_.at(key);
  if (!v.is_boolean()) Fail(key, "expected true or false, got " + JsonPreview(v));
  *out = v.get<bool>();
}

void ObjectReader::Number(const std::string& key, double* out, bool required, double min,
                          double max) {
  Known(key, required);
  if (!Has(key)) return;
  const Json& v = json_.at(key);
  if (!v.is_number()) Fail(key, "expected a number, got " + JsonPreview(v));
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < min || d > max) {
    // Readers pass only a lower bound (max left at its default) or both.
    const std::string range =
        max >= 1e300 ? ">= " + JsonPreview(Json(min))
                     : "in [" + JsonPreview(Json(min)) + ", " + JsonPreview(Json(max)) + "]";
    Fail(key, "expected a number " + range + ", got " + JsonPreview(v));
  }
  *out = d;
}

void ObjectReader::Int(const std::string& key, int64_t* out, bool required, int64_t min,
                       int64_t max) {
  Known(key, required);
  if (!Has(key)) return;
  const Json& v = json_.at(key);
  if (!v.is_number_integer()) Fail(key, "expected an integer, got " + JsonPreview(v));
  const std::optional<int64_t> i = IntegerIn(v, min, max);
  if (!i) Fail(key, "expected an integer " + IntRange(min, max) + ", got " + JsonPreview(v));
  *out = *i;
}

void ObjectReader::Int(const std::string& key, int* out, bool required, int min, int max) {
  int64_t v = *out;
  Int(key, &v, required, min, max == INT32_MAX ? INT64_MAX : max);
  if (v < INT32_MIN || v > INT32_MAX) {
    Fail(key, "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                  "], got " + std::to_string(v));
  }
  *out = static_cast<int>(v);
}

void ObjectReader::String(const std::string& key, std::string* out, bool required) {
  Known(key, required);
  if (!Has(key)) return;
  const Json& v = json_.at(key);
  if (!v.is_string()) Fail(key, "expected a string, got " + JsonPreview(v));
  *out = v.get<std::string>();
}

Duration ReadDuration(const Json& v, const std::string& path, const std::string& file) {
  if (!v.is_string()) {
    throw ConfigError(file, path,
                      "expected a duration string with a unit such as \"250ms\", \"90s\", "
                      "\"15m\", \"2h\" or \"3d\", got " +
                          JsonPreview(v));
  }
  auto parsed = ParseDuration(v.get<std::string>());
  if (!parsed.ok()) throw ConfigError(file, path, parsed.error());
  return *parsed;
}

void ObjectReader::Dur(const std::string& key, Duration* out, bool required, Duration min,
                       Duration max) {
  Known(key, required);
  if (!Has(key)) return;
  const Duration d = ReadDuration(json_.at(key), PathOf(key), file_);
  if (d < min || d > max) {
    std::string range;
    if (max != Duration::Infinite()) {
      range = "in [" + FormatDuration(min) + ", " + FormatDuration(max) + "]";
    } else if (min == Duration::Zero()) {
      range = ">= 0s (not negative)";
    } else if (min == Microseconds(1)) {
      range = "> 0s";
    } else {
      range = ">= " + FormatDuration(min);
    }
    Fail(key, "expected a duration " + range + ", got " + JsonPreview(json_.at(key)));
  }
  *out = d;
}

void ObjectReader::Inst(const std::string& key, Instant* out, bool required) {
  Known(key, required);
  if (!Has(key)) return;
  const Json& v = json_.at(key);
  if (!v.is_string()) Fail(key, "expected an ISO 8601 instant string, got " + JsonPreview(v));
  auto parsed = ParseInstant(v.get<std::string>());
  if (!parsed.ok()) Fail(key, parsed.error());
  *out = *parsed;
}

void ObjectReader::Strings(const std::string& key, std::vector<std::string>* out, bool required) {
  Known(key, required);
  if (!Has(key)) return;
  const Json& v = Array(key);
  out->clear();
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      throw ConfigError(file_, PathOf(key) + "/" + std::to_string(i),
                        "expected a string, got " + JsonPreview(v[i]));
    }
    out->push_back(v[i].get<std::string>());
  }
}

void ObjectReader::Ints(const std::string& key, std::vector<int>* out, bool required) {
  Known(key, required);
  if (!Has(key)) return;
  const Json& v = Array(key);
  out->clear();
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string path = PathOf(key) + "/" + std::to_string(i);
    if (!v[i].is_number_integer()) {
      throw ConfigError(file_, path, "expected an integer, got " + JsonPreview(v[i]));
    }
    // get<int>() would wrap 4294967496 to 200: check the range first.
    const std::optional<int64_t> value = IntegerIn(v[i], INT32_MIN, INT32_MAX);
    if (!value) {
      throw ConfigError(
          file_, path,
          "expected an integer " + IntRange(INT32_MIN, INT32_MAX) + ", got " + JsonPreview(v[i]));
    }
    out->push_back(static_cast<int>(*value));
  }
}

void ObjectReader::Durs(const std::string& key, std::vector<Duration>* out, bool required) {
  Known(key, required);
  if (!Has(key)) return;
  const Json& v = Array(key);
  out->clear();
  for (size_t i = 0; i < v.size(); ++i) {
    out->push_back(ReadDuration(v[i], PathOf(key) + "/" + std::to_string(i), file_));
  }
}

ObjectReader ObjectReader::Object(const std::string& key) const {
  const_cast<ObjectReader*>(this)->known_.insert(key);
  if (!Has(key)) throw ConfigError(file_, PathOf(key), "required object is missing");
  return ObjectReader(json_.at(key), PathOf(key), file_);
}

const Json& ObjectReader::Raw(const std::string& key) {
  known_.insert(key);
  if (!Has(key)) throw ConfigError(file_, PathOf(key), "required field is missing");
  return json_.at(key);
}

const Json& ObjectReader::Array(const std::string& key) {
  known_.insert(key);
  if (!Has(key)) {
    throw ConfigError(file_, PathOf(key), "required field is missing (expected an array)");
  }
  const Json& v = json_.at(key);
  if (!v.is_array()) Fail(key, "expected an array, got " + JsonTypeName(v));
  return v;
}

std::vector<std::string> ObjectReader::Keys(const std::string& key) const {
  std::vector<std::string> keys;
  if (!Has(key) || !json_.at(key).is_object()) return keys;
  for (const auto& item : json_.at(key).items()) keys.push_back(item.key());
  return keys;
}

void ObjectReader::Finish() const {
  for (const auto& [key, value] : json_.items()) {
    if (known_.count(key) == 0) {
      std::string list;
      for (const std::string& k : known_) list += (list.empty() ? "" : ", ") + k;
      throw ConfigError(file_, PathOf(key),
                        "unknown key \"" + key + "\"; expected one of: " + list);
    }
  }
}

}  // namespace orchsim::config
