// upstream_response_parser.h — an HTTP/1.1 response parser (Beast's
// basic_parser underneath) that reads an upstream's answer straight into
// what the core takes: the status, the headers as the core's Headers (a
// field that comes twice is joined "first, second", as RFC 9110 5.3
// allows), the Content-Type and the body bytes.
//
// Why not Beast's response_parser<string_body>: it builds a fields
// container (a heap node per field), which the transport then copied field
// by field into Headers; on a proxied miss that was a tenth of serve's
// heap allocations (callgrind, tools/bench_serve.sh misses).
//
// Limits are basic_parser's: header_limit() and body_limit() (set them
// before the first byte). One parser reads one response.
#ifndef ORCHSIM_LIVE_UPSTREAM_RESPONSE_PARSER_H_
#define ORCHSIM_LIVE_UPSTREAM_RESPONSE_PARSER_H_

#include <boost/beast/http/basic_parser.hpp>
#include <cstdint>
#include <string>

#include "policies/request.h"

namespace orchsim::live {

class UpstreamResponseParser : public boost::beast::http::basic_parser<false> {
 public:
  UpstreamResponseParser() = default;

  // Valid once is_done() (the head's parts once is_header_done()).
  int status() const { return status_; }
  Headers& headers() { return headers_; }
  const std::string& content_type() const { return content_type_; }
  std::string& body() { return body_; }

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::beast::error_code;

  void on_request_impl(boost::beast::http::verb, string_view, string_view, int,
                       error_code& ec) override;
  void on_response_impl(int code, string_view reason, int version, error_code& ec) override;
  void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         error_code& ec) override;
  std::size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t size, string_view extensions, error_code& ec) override;
  std::size_t on_chunk_body_impl(std::uint64_t remain, string_view body, error_code& ec) override;
  void on_finish_impl(error_code& ec) override;

  int status_ = 0;
  Headers headers_;
  std::string content_type_;
  std::string body_;
};

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_UPSTREAM_RESPONSE_PARSER_H_
