// http_server.h — a small HTTP/1.1 server on Boost.Beast (its
// advanced_server example is the model): a listener, and one session object
// per client connection that owns its socket and buffers.
//
// Contract:
//   - Each request read in full is handed to the handler with a Responder;
//     the handler answers through it exactly once, at once or later (the
//     session reads no further request until then; pipelined requests wait
//     in the buffer). A Responder dropped without an answer answers 500
//     itself, so no accepted request is left without an answer.
//   - Limits: a request head of at most max_header_bytes (431 beyond), no
//     request body beyond 64 KiB (413), max_connections open sessions (more
//     are closed at once), idle_timeout to receive a request (then the
//     connection closes), write_timeout to send an answer. A request that
//     does not parse gets 400 and the connection closes.
//   - StopAccepting closes the listener; CloseIdle closes sessions that wait
//     for a request (answers still pending are written, then their
//     connection closes; a request whose read completed but was not yet
//     handed to the handler is dropped with its connection, unaccepted);
//     SetClosing(true) makes every answer carry "Connection: close".
// Thread rules: one io_context thread (the handler runs on it).
#ifndef ORCHSIM_LIVE_HTTP_SERVER_H_
#define ORCHSIM_LIVE_HTTP_SERVER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "live/proxy_answer.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim::live {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port (see HttpServer::port)
  size_t max_connections = 1024;
  size_t max_header_bytes = 16 << 10;
  Duration idle_timeout = Seconds(60);
  Duration write_timeout = Seconds(30);
};

class HttpSession;
struct HttpServerState;

// Answers one request, once. Move-only.
class Responder {
 public:
  Responder() = default;
  explicit Responder(std::shared_ptr<HttpSession> session);
  Responder(Responder&&) noexcept = default;
  Responder& operator=(Responder&&) noexcept;
  ~Responder();
  // REQUIRES: not answered yet (a second call does nothing).
  void Send(ProxyAnswer answer);
  bool answered() const { return session_ == nullptr; }

 private:
  std::shared_ptr<HttpSession> session_;
};

using ClientRequest = boost::beast::http::request<boost::beast::http::string_body>;

class HttpServer {
 public:
  using Handler = std::function<void(const ClientRequest&, Responder)>;
  static StatusOr<std::unique_ptr<HttpServer>> Start(boost::asio::io_context& io,
                                                     const HttpServerOptions& options,
                                                     Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const { return port_; }
  void StopAccepting();
  void CloseIdle();
  void SetClosing(bool closing);
  // Sessions open, and those writing or owing an answer.
  size_t open_sessions() const;
  size_t busy_sessions() const;

 private:
  explicit HttpServer(std::shared_ptr<HttpServerState> state);

  std::shared_ptr<HttpServerState> state_;
  uint16_t port_ = 0;
};

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_HTTP_SERVER_H_
