#include "live/http_server.h"

#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <chrono>
#include <optional>
#include <unordered_set>
#include <vector>

#include "live/http_wire.h"

namespace orchsim::live {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr size_t kMaxRequestBodyBytes = 64 << 10;

std::chrono::microseconds ToChrono(Duration d) { return std::chrono::microseconds(d.micros()); }

// Sessions run on the io_context's own executor type, not the type-erased
// any_io_executor: every completion handler then skips the erased copy,
// move and destroy (about 6% of a cache hit's CPU time, perf).
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using Stream = beast::basic_stream<tcp, Executor>;

}  // namespace

struct HttpServerState {
  HttpServerState(net::io_context& io, HttpServerOptions o, HttpServer::Handler h)
      : options(std::move(o)), handler(std::move(h)), executor(io.get_executor()), acceptor(io) {}
  HttpServerOptions options;
  HttpServer::Handler handler;
  Executor executor;
  tcp::acceptor acceptor;
  std::unordered_set<HttpSession*> sessions;
  bool accepting = true;
  bool closing = false;
};

// ---------------------------------------------------------------- HttpSession

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Socket socket, std::shared_ptr<HttpServerState> state)
      : stream_(std::move(socket)), state_(std::move(state)) {
    state_->sessions.insert(this);
  }
  ~HttpSession() { state_->sessions.erase(this); }

  void Read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->options.max_header_bytes));
    parser_->body_limit(kMaxRequestBodyBytes);
    stream_.expires_after(ToChrono(state_->options.idle_timeout));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                       self->OnRead(ec);
                     });
  }

  // Called once per request, through its Responder. The head is written by
  // hand (live/http_wire.h) into a reused string and goes out with the body
  // in one gathered write.
  void Answer(ProxyAnswer answer) {
    body_ = answer.body ? std::move(answer.body) : MakeBody("", "");
    keep_open_ = keep_alive_ && !close_after_ && !state_->closing;
    ResponseHead head;
    head.status = answer.status;
    head.content_type = answer.content_type;
    head.fields = &answer.headers;
    head.content_length = body_->bytes.size();
    head.keep_alive = keep_open_;
    head_.clear();
    AppendResponseHead(head_, head);
    const size_t body_bytes = StatusHasNoBody(answer.status) ? 0 : body_->bytes.size();
    const std::array<net::const_buffer, 2> buffers = {net::buffer(head_),
                                                      net::buffer(body_->bytes.data(), body_bytes)};
    stream_.expires_after(ToChrono(state_->options.write_timeout));
    net::async_write(stream_, buffers,
                     [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                       self->OnWritten(ec);
                     });
  }

  bool busy() const { return busy_; }

  void Close() {
    closed_ = true;
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void OnRead(const boost::system::error_code& ec) {
    // Closed (CloseIdle, the server's end) after the read completed but
    // before this ran: the request never reaches the handler, so it is not
    // accepted, and no answer is owed on a socket that can no longer carry it.
    if (closed_) return;
    if (ec == http::error::end_of_stream) {
      Close();
      return;
    }
    if (ec == http::error::header_limit || ec == http::error::body_limit ||
        (ec && ec.category() == http::make_error_code(http::error::bad_target).category())) {
      // The request cannot be read: answer why and close.
      busy_ = true;
      close_after_ = true;
      keep_alive_ = false;
      if (ec == http::error::header_limit) {
        Answer(JsonError(431, "header_too_large",
                         "the request head is larger than " +
                             std::to_string(state_->options.max_header_bytes) + " bytes"));
      } else if (ec == http::error::body_limit) {
        Answer(JsonError(413, "body_too_large", "the request body is too large"));
      } else {
        Answer(JsonError(400, "bad_request", "malformed HTTP request: " + ec.message()));
      }
      return;
    }
    if (ec) {  // timeout, reset, closed
      Close();
      return;
    }
    request_ = parser_->release();
    keep_alive_ = request_.keep_alive();
    busy_ = true;
    stream_.expires_never();  // the core keeps the deadlines while it works
    state_->handler(request_, Responder(shared_from_this()));
  }

  void OnWritten(const boost::system::error_code& ec) {
    busy_ = false;
    body_.reset();
    if (ec || !keep_open_) {
      Close();
      return;
    }
    Read();
  }

  Stream stream_;
  std::shared_ptr<HttpServerState> state_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  ClientRequest request_;
  std::string head_;       // the answer's head being written (capacity reused)
  BodyPtr body_;           // the answer's body, until written
  bool keep_open_ = true;  // the answer being written keeps the connection
  bool keep_alive_ = true;
  bool close_after_ = false;
  bool busy_ = false;
  bool closed_ = false;
};

// ---------------------------------------------------------------- Responder

Responder::Responder(std::shared_ptr<HttpSession> session) : session_(std::move(session)) {}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (session_) Send(JsonError(500, "internal", "the request was not answered"));
    session_ = std::move(other.session_);
  }
  return *this;
}

Responder::~Responder() {
  if (session_) Send(JsonError(500, "internal", "the request was not answered"));
}

void Responder::Send(ProxyAnswer answer) {
  if (!session_) return;
  std::shared_ptr<HttpSession> session = std::move(session_);
  session_ = nullptr;
  session->Answer(std::move(answer));
}

// ---------------------------------------------------------------- HttpServer

namespace {

void AcceptNext(const std::shared_ptr<HttpServerState>& state) {
  state->acceptor.async_accept(
      state->executor, [state](const boost::system::error_code& ec, Socket socket) {
        if (!state->accepting) return;
        if (!ec) {
          if (state->sessions.size() >= state->options.max_connections) {
            boost::system::error_code ignored;
            socket.close(ignored);  // over the limit: refuse at once
          } else {
            boost::system::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            std::make_shared<HttpSession>(std::move(socket), state)->Read();
          }
        }
        AcceptNext(state);
      });
}

}  // namespace

HttpServer::HttpServer(std::shared_ptr<HttpServerState> state) : state_(std::move(state)) {}

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(net::io_context& io,
                                                        const HttpServerOptions& options,
                                                        Handler handler) {
  auto state = std::make_shared<HttpServerState>(io, options, std::move(handler));
  boost::system::error_code ec;
  const std::string host = options.host == "localhost" ? "127.0.0.1" : options.host;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("listen: \"" + options.host + "\" is not an IP address");
  const tcp::endpoint endpoint(address, options.port);
  tcp::acceptor& acceptor = state->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::InvalidArgument("listen on " + host + ":" + std::to_string(options.port) + ": " +
                                   ec.message());
  }
  std::unique_ptr<HttpServer> server(new HttpServer(state));
  server->port_ = acceptor.local_endpoint().port();
  AcceptNext(state);
  return server;
}

HttpServer::~HttpServer() {
  StopAccepting();
  SetClosing(true);
  for (HttpSession* session :
       std::vector<HttpSession*>(state_->sessions.begin(), state_->sessions.end())) {
    session->Close();
  }
}

void HttpServer::StopAccepting() {
  state_->accepting = false;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
}

void HttpServer::CloseIdle() {
  for (HttpSession* session :
       std::vector<HttpSession*>(state_->sessions.begin(), state_->sessions.end())) {
    if (!session->busy()) session->Close();
  }
}

void HttpServer::SetClosing(bool closing) { state_->closing = closing; }

size_t HttpServer::open_sessions() const { return state_->sessions.size(); }

size_t HttpServer::busy_sessions() const {
  size_t busy = 0;
  for (const HttpSession* session : state_->sessions) busy += session->busy() ? 1 : 0;
  return busy;
}

}  // namespace orchsim::live
