// http_connection.h — one HTTP/1.1 client connection to one upstream origin
// (plain TCP or TLS), the way Boost.Beast's http_client_async_ssl example
// holds one: the object owns its socket, buffers and parser, every
// asynchronous step runs under a deadline, and errors are reported where
// they arise, as text ("connect: Connection refused", "read: timed out
// after 10s", "response body larger than 1048576 bytes").
//
// Life cycle: Connect (resolve, connect, TLS handshake with certificate and
// host-name verification) once, then Exchange (write one request, read one
// response) as often as the server keeps the connection alive; between
// exchanges the owner may park it with StartIdle. Close() aborts whatever is
// pending: the pending handler still runs once, with an error (aborted).
// Handlers run on the io_context's thread and hold the connection alive
// (shared_from_this), never inside the call that started them.
//
// Limits: the response head is at most max_header_bytes, the body at most
// max_response_bytes (larger: the exchange fails and the connection must be
// closed); a phase that takes longer than its timeout closes the connection.
// Not thread-safe: one io_context thread.
#ifndef ORCHSIM_LIVE_HTTP_CONNECTION_H_
#define ORCHSIM_LIVE_HTTP_CONNECTION_H_

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "live/upstream_response_parser.h"
#include "live/url.h"
#include "policies/time.h"

namespace orchsim::live {

struct ConnectionLimits {
  Duration connect_timeout = Seconds(5);  // resolve + connect + TLS handshake
  Duration read_timeout = Seconds(30);    // write the request + read the whole response
  size_t max_response_bytes = size_t{8} << 20;
  size_t max_header_bytes = size_t{64} << 10;
};

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  struct ExchangeResult {
    std::string error;        // "" on success
    bool got_bytes = false;   // any byte of a response arrived
    bool keep_alive = false;  // the connection may carry another exchange
    // Valid when error is "":
    int status = 0;
    Headers headers;  // a field sent twice joined "first, second"
    std::string content_type;
    std::string body;
  };

  // `tls` is the origin's TLS context (nullptr for http://); it must
  // outlive the connection.
  HttpConnection(boost::asio::io_context& io, boost::asio::ssl::context* tls, BaseUrl url,
                 ConnectionLimits limits);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // `done` gets "" once connected (and TLS verified), or what failed.
  void Connect(std::function<void(const std::string& error)> done);
  // Writes `request_head` (a whole GET, live/http_wire.h; copied, so the
  // caller's may go) and reads the response.
  // REQUIRES: connected, no exchange pending.
  void Exchange(std::string_view request_head, std::function<void(ExchangeResult&&)> done);
  // Parks the connection: `on_expired` runs if it is still idle after
  // `idle_timeout`. StopIdle (or Exchange, or Close) disarms it.
  void StartIdle(Duration idle_timeout, std::function<void()> on_expired);
  void StopIdle();
  // Closes the socket; pending operations end with an error.
  void Close();
  bool closed() const { return closed_; }
  int exchanges() const { return exchanges_; }

 private:
  // On io_context's own executor type, not the type-erased any_io_executor:
  // every completion handler then skips the erased copy, move and destroy.
  using Executor = boost::asio::io_context::executor_type;
  using Stream = boost::beast::basic_stream<boost::asio::ip::tcp, Executor>;
  using Timer = boost::asio::basic_waitable_timer<
      std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;
  using TlsStream = boost::beast::ssl_stream<Stream>;
  Stream& Lowest();
  void ArmDeadline(Duration timeout, std::string phase);
  // The error text for `ec` in `phase`, naming a timeout as such.
  std::string Describe(const char* phase, const boost::system::error_code& ec) const;
  void OnResolved(const boost::system::error_code& ec,
                  const boost::asio::ip::tcp::resolver::results_type& results);
  void OnConnected(const boost::system::error_code& ec);
  void FinishConnect(const std::string& error);
  void OnWritten(const boost::system::error_code& ec);
  void OnHeader(const boost::system::error_code& ec);
  void OnRead(const boost::system::error_code& ec);
  void FinishExchange(ExchangeResult result);

  boost::asio::ssl::context* tls_context_;
  BaseUrl url_;
  ConnectionLimits limits_;
  boost::asio::ip::tcp::resolver resolver_;
  std::optional<Stream> plain_;
  std::optional<TlsStream> tls_;
  Timer deadline_;
  Timer idle_timer_;
  std::string deadline_phase_;        // the phase the deadline guards
  uint64_t deadline_generation_ = 0;  // a deadline fires only for its own phase
  bool timed_out_ = false;
  bool closed_ = false;
  int exchanges_ = 0;
  uint64_t idle_generation_ = 0;

  std::function<void(const std::string&)> on_connected_;
  std::function<void(ExchangeResult&&)> on_exchanged_;
  std::string request_;  // the head being written (its capacity reused)
  boost::beast::flat_buffer buffer_;
  std::optional<UpstreamResponseParser> parser_;
};

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_HTTP_CONNECTION_H_
