#include "live/upstream_response_parser.h"

#include <algorithm>
#include <boost/beast/http/error.hpp>
#include <string_view>

namespace orchsim::live {

namespace http = boost::beast::http;

namespace {

std::string_view View(boost::beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace

void UpstreamResponseParser::on_request_impl(http::verb, string_view, string_view, int,
                                             error_code& ec) {
  ec = http::error::bad_version;  // a response parser never sees a request line
}

void UpstreamResponseParser::on_response_impl(int code, string_view, int, error_code&) {
  status_ = code;
}

void UpstreamResponseParser::on_field_impl(http::field name, string_view name_string,
                                           string_view value, error_code&) {
  const std::string_view field = View(name_string);
  const std::string_view text = View(value);
  if (name == http::field::content_type && content_type_.empty()) content_type_.assign(text);
  headers_.Add(field, text);
}

void UpstreamResponseParser::on_header_impl(error_code&) {}

void UpstreamResponseParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                               error_code&) {
  // Reserved up to 1 MiB: the length is the peer's claim (the body limit
  // still applies as the bytes arrive).
  constexpr std::uint64_t kMaxReserve = std::uint64_t{1} << 20;
  if (content_length) body_.reserve(static_cast<size_t>(std::min(*content_length, kMaxReserve)));
}

std::size_t UpstreamResponseParser::on_body_impl(string_view body, error_code&) {
  body_.append(body.data(), body.size());
  return body.size();
}

void UpstreamResponseParser::on_chunk_header_impl(std::uint64_t, string_view, error_code&) {}

std::size_t UpstreamResponseParser::on_chunk_body_impl(std::uint64_t, string_view body,
                                                       error_code&) {
  body_.append(body.data(), body.size());
  return body.size();
}

void UpstreamResponseParser::on_finish_impl(error_code&) {}

}  // namespace orchsim::live
