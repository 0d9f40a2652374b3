#include "live/http_connection.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <chrono>
#include <utility>

namespace orchsim::live {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::chrono::microseconds ToChrono(Duration d) { return std::chrono::microseconds(d.micros()); }

bool IsIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

HttpConnection::HttpConnection(net::io_context& io, net::ssl::context* tls, BaseUrl url,
                               ConnectionLimits limits)
    : tls_context_(tls),
      url_(std::move(url)),
      limits_(limits),
      resolver_(io),
      deadline_(io.get_executor()),
      idle_timer_(io.get_executor()) {
  if (tls_context_ != nullptr) {
    tls_.emplace(io.get_executor(), *tls_context_);
  } else {
    plain_.emplace(io.get_executor());
  }
}

HttpConnection::~HttpConnection() = default;

HttpConnection::Stream& HttpConnection::Lowest() {
  return tls_ ? beast::get_lowest_layer(*tls_) : *plain_;
}

void HttpConnection::ArmDeadline(Duration timeout, std::string phase) {
  deadline_phase_ = std::move(phase);
  const uint64_t generation = ++deadline_generation_;
  deadline_.expires_after(ToChrono(timeout));
  deadline_.async_wait(
      [self = shared_from_this(), generation](const boost::system::error_code& ec) {
        // Cancelled, or a wake-up that raced with the end of its phase (the
        // generation moved on): nothing to do.
        if (ec || self->closed_ || generation != self->deadline_generation_) return;
        self->timed_out_ = true;
        self->Close();
      });
}

std::string HttpConnection::Describe(const char* phase, const boost::system::error_code& ec) const {
  if (timed_out_) {
    const Duration limit =
        deadline_phase_ == "connect" ? limits_.connect_timeout : limits_.read_timeout;
    return std::string(phase) + ": timed out after " + FormatDuration(limit);
  }
  return std::string(phase) + ": " + ec.message();
}

void HttpConnection::Close() {
  if (closed_) return;
  closed_ = true;
  resolver_.cancel();
  boost::system::error_code ignored;
  Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  Lowest().close();
  deadline_.cancel();
  idle_timer_.cancel();
}

// ---------------------------------------------------------------- connect

void HttpConnection::Connect(std::function<void(const std::string&)> done) {
  on_connected_ = std::move(done);
  ArmDeadline(limits_.connect_timeout, "connect");
  resolver_.async_resolve(url_.host, std::to_string(url_.port),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      const tcp::resolver::results_type& results) {
                            self->OnResolved(ec, results);
                          });
}

void HttpConnection::OnResolved(const boost::system::error_code& ec,
                                const tcp::resolver::results_type& results) {
  if (ec || closed_) {
    FinishConnect(Describe("resolve", ec ? ec : net::error::operation_aborted));
    return;
  }
  Lowest().async_connect(
      results, [self = shared_from_this()](const boost::system::error_code& e,
                                           const tcp::endpoint&) { self->OnConnected(e); });
}

void HttpConnection::OnConnected(const boost::system::error_code& ec) {
  if (ec || closed_) {
    FinishConnect(Describe("connect", ec ? ec : net::error::operation_aborted));
    return;
  }
  boost::system::error_code ignored;
  Lowest().socket().set_option(tcp::no_delay(true), ignored);
  if (!tls_) {
    FinishConnect("");
    return;
  }
  // SNI for names (not for address literals), then the certificate chain
  // against the context's CA store and the name against the certificate.
  if (!IsIpLiteral(url_.host) &&
      SSL_set_tlsext_host_name(tls_->native_handle(), url_.host.c_str()) != 1) {
    FinishConnect("tls: cannot set the server name");
    return;
  }
  tls_->set_verify_mode(net::ssl::verify_peer);
  tls_->set_verify_callback(net::ssl::host_name_verification(url_.host));
  tls_->async_handshake(net::ssl::stream_base::client, [self = shared_from_this()](
                                                           const boost::system::error_code& e) {
    if (e || self->closed_) {
      self->FinishConnect(self->Describe("tls handshake", e ? e : net::error::operation_aborted));
    } else {
      self->FinishConnect("");
    }
  });
}

void HttpConnection::FinishConnect(const std::string& error) {
  ++deadline_generation_;
  deadline_.cancel();
  if (!error.empty()) Close();
  auto done = std::move(on_connected_);
  on_connected_ = nullptr;
  if (done) done(error);
}

// ---------------------------------------------------------------- exchange

void HttpConnection::Exchange(std::string_view request_head,
                              std::function<void(ExchangeResult&&)> done) {
  StopIdle();
  on_exchanged_ = std::move(done);
  request_.assign(request_head);
  parser_.emplace();
  parser_->body_limit(limits_.max_response_bytes);
  parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  ArmDeadline(limits_.read_timeout, "read");
  auto on_written = [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
    self->OnWritten(ec);
  };
  if (tls_) {
    net::async_write(*tls_, net::buffer(request_), std::move(on_written));
  } else {
    net::async_write(*plain_, net::buffer(request_), std::move(on_written));
  }
}

void HttpConnection::OnWritten(const boost::system::error_code& ec) {
  if (ec || closed_) {
    ExchangeResult result;
    result.error = Describe("write", ec ? ec : net::error::operation_aborted);
    FinishExchange(std::move(result));
    return;
  }
  // The head first, then the body: Beast 1.74 misses the body limit of a
  // Content-Length response whose head and body arrive in one read
  // (async_read parses eagerly past the limit check), so the length is
  // checked here before the body is read.
  auto on_header = [self = shared_from_this()](const boost::system::error_code& e, size_t) {
    self->OnHeader(e);
  };
  if (tls_) {
    http::async_read_header(*tls_, buffer_, *parser_, std::move(on_header));
  } else {
    http::async_read_header(*plain_, buffer_, *parser_, std::move(on_header));
  }
}

void HttpConnection::OnHeader(const boost::system::error_code& ec) {
  if (ec || closed_) {
    OnRead(ec ? ec : net::error::operation_aborted);
    return;
  }
  const boost::optional<std::uint64_t> length = parser_->content_length();
  if (length && *length > limits_.max_response_bytes) {
    OnRead(http::error::body_limit);
    return;
  }
  auto on_read = [self = shared_from_this()](const boost::system::error_code& e, size_t) {
    self->OnRead(e);
  };
  if (tls_) {
    http::async_read(*tls_, buffer_, *parser_, std::move(on_read));
  } else {
    http::async_read(*plain_, buffer_, *parser_, std::move(on_read));
  }
}

void HttpConnection::OnRead(const boost::system::error_code& ec) {
  ExchangeResult result;
  result.got_bytes = parser_->got_some();
  if (ec == http::error::body_limit) {
    result.error =
        "response body larger than " + std::to_string(limits_.max_response_bytes) + " bytes";
  } else if (ec == http::error::header_limit) {
    result.error =
        "response header larger than " + std::to_string(limits_.max_header_bytes) + " bytes";
  } else if (ec || closed_) {
    result.error = Describe("read", ec ? ec : net::error::operation_aborted);
  } else {
    result.status = parser_->status();
    result.headers = std::move(parser_->headers());
    result.content_type = parser_->content_type();
    result.body = std::move(parser_->body());
    result.keep_alive = parser_->keep_alive();
  }
  FinishExchange(std::move(result));
}

void HttpConnection::FinishExchange(ExchangeResult result) {
  ++deadline_generation_;
  deadline_.cancel();
  ++exchanges_;
  if (!result.error.empty()) Close();
  auto done = std::move(on_exchanged_);
  on_exchanged_ = nullptr;
  if (done) done(std::move(result));
}

// ---------------------------------------------------------------- idle

void HttpConnection::StartIdle(Duration idle_timeout, std::function<void()> on_expired) {
  const uint64_t generation = ++idle_generation_;
  idle_timer_.expires_after(ToChrono(idle_timeout));
  idle_timer_.async_wait([self = shared_from_this(), generation,
                          on_expired = std::move(on_expired)](const boost::system::error_code& ec) {
    if (ec || self->closed_ || generation != self->idle_generation_) return;
    on_expired();
  });
}

void HttpConnection::StopIdle() {
  ++idle_generation_;
  idle_timer_.cancel();
}

}  // namespace orchsim::live
