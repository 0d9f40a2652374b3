#include "engine/scenario/field_error.h"

#include <cctype>

namespace orchsim::scenario {

ConfigError FieldErrorAt(const ObjectReader& reader, const std::string& prefix,
                         const Status& status) {
  return FieldErrorAt(reader.file(), reader.path(), prefix, status);
}

ConfigError FieldErrorAt(const std::string& file, const std::string& object_path,
                         const std::string& prefix, const Status& status) {
  const std::string& message = status.message();
  const size_t colon = message.find(": ");
  if (colon == std::string::npos || message.compare(0, prefix.size(), prefix) != 0 ||
      colon <= prefix.size()) {
    return ConfigError(file, object_path, message);
  }
  const std::string field = message.substr(prefix.size(), colon - prefix.size());
  std::string path = object_path;
  std::string segment;
  auto flush = [&] {
    if (!segment.empty()) path += "/" + segment;
    segment.clear();
  };
  for (char c : field) {
    if (c == '.' || c == '[' || c == ']') {
      flush();
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') {
      segment += c;
    } else {
      return ConfigError(file, object_path, message);  // not a field name
    }
  }
  flush();
  return ConfigError(file, path, message.substr(colon + 2));
}

}  // namespace orchsim::scenario
