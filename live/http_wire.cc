#include "live/http_wire.h"

// Before Beast's headers: Boost 1.74's string_view printer needs the
// complete std::ostream.
#include <boost/beast/http/status.hpp>
#include <charconv>
#include <ostream>
#include <vector>

#include "policies/request.h"

namespace orchsim::live {

namespace {

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

void AppendNumber(std::string& out, size_t n) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, static_cast<size_t>(end - digits));
}

}  // namespace

void AppendGetHead(std::string& out, std::string_view target, std::span<const FieldView> base,
                   const HeaderFields& extra) {
  out.append("GET ");
  out.append(target);
  out.append(" HTTP/1.1\r\n");
  // A field is written unless a later one (an `extra` field) replaces it.
  auto replaced_after = [&](std::string_view name, size_t first_extra) {
    for (size_t j = first_extra; j < extra.size(); ++j) {
      if (EqualsIgnoreCase(extra[j].first, name)) return true;
    }
    return false;
  };
  for (const auto& [name, value] : base) {
    if (!replaced_after(name, 0)) AppendField(out, name, value);
  }
  for (size_t i = 0; i < extra.size(); ++i) {
    if (!replaced_after(extra[i].first, i + 1)) AppendField(out, extra[i].first, extra[i].second);
  }
  out.append("\r\n");
}

bool StatusHasNoBody(int status) { return status / 100 == 1 || status == 204 || status == 304; }

void AppendResponseHead(std::string& out, const ResponseHead& head) {
  out.append("HTTP/1.1 ");
  AppendNumber(out, static_cast<size_t>(head.status));
  out.push_back(' ');
  const auto reason = boost::beast::http::obsolete_reason(
      boost::beast::http::int_to_status(static_cast<unsigned>(head.status)));
  out.append(reason.data(), reason.size());
  out.append("\r\n");
  if (!head.content_type.empty()) AppendField(out, "Content-Type", head.content_type);
  if (head.fields != nullptr) {
    for (const auto& [name, value] : *head.fields) AppendField(out, name, value);
  }
  if (!head.keep_alive) AppendField(out, "Connection", "close");
  if (!StatusHasNoBody(head.status)) {
    out.append("Content-Length: ");
    AppendNumber(out, head.content_length);
    out.append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace orchsim::live
