#include "live/mock_upstream_server.h"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orchsim::live {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::string_view kServerName = "orchsim-mock-upstream";
constexpr std::string_view kOwnPrefix = "/_mock/";

beast::string_view Beast(std::string_view s) { return {s.data(), s.size()}; }
std::string_view Std(beast::string_view s) { return {s.data(), s.size()}; }

std::chrono::microseconds ToChrono(Duration d) {
  return std::chrono::microseconds(std::max<int64_t>(0, d.micros()));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `text` ('+' is a space when `plus_is_space`); nullopt on a
// malformed escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string ErrorBody(int status, std::string_view reason) {
  nlohmann::ordered_json body;
  body["status"] = status;
  body["error"] = std::string(reason);
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// What a request asks of the model, or why it cannot.
struct ParsedCall {
  std::string endpoint;
  std::vector<std::string> keys;
  std::string error;  // non-empty: answer 400 with it
};

ParsedCall ParseCallTarget(std::string_view target) {
  ParsedCall parsed;
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  if (path.size() < 2 || path.front() != '/') {
    parsed.error = "the path must name an endpoint: GET /<endpoint>?key=K";
    return parsed;
  }
  std::optional<std::string> endpoint = PercentDecode(path.substr(1), false);
  if (!endpoint || endpoint->empty()) {
    parsed.error = "malformed percent-encoding in the path";
    return parsed;
  }
  parsed.endpoint = std::move(*endpoint);
  std::optional<std::string> key, keys;
  size_t begin = 0;
  while (begin <= query.size() && !query.empty()) {
    size_t end = query.find('&', begin);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(begin, end - begin);
    const size_t equals = pair.find('=');
    std::optional<std::string> name = PercentDecode(pair.substr(0, equals), true);
    std::optional<std::string> value = PercentDecode(
        equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1), true);
    if (!name || !value) {
      parsed.error = "malformed percent-encoding in the query";
      return parsed;
    }
    if (*name == "key" || *name == "keys") {
      std::optional<std::string>& slot = *name == "key" ? key : keys;
      if (slot) {
        parsed.error = "query parameter \"" + *name + "\" given twice";
        return parsed;
      }
      slot = std::move(*value);
    }
    begin = end + 1;
  }
  if (key.has_value() == keys.has_value()) {
    parsed.error = "give exactly one of key=K (one call) or keys=K1,K2,... (a batch call)";
    return parsed;
  }
  if (key) {
    parsed.keys.push_back(std::move(*key));
  } else {
    size_t start = 0;
    while (true) {
      const size_t comma = keys->find(',', start);
      parsed.keys.push_back(keys->substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    for (const std::string& k : parsed.keys) {
      if (k.empty()) {
        parsed.error = "keys=: empty key in the list";
        return parsed;
      }
    }
  }
  return parsed;
}

// GitHub's x-ratelimit-reset (epoch seconds of scenario time) on the wall
// clock of this machine: the same distance ahead of now.
std::string TranslateEpochReset(const std::string& value, Instant scenario_now,
                                std::chrono::system_clock::time_point wall_now) {
  int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size()) return value;
  const int64_t ahead_us = seconds * 1'000'000 - scenario_now.unix_micros();
  const int64_t wall_us =
      std::chrono::duration_cast<std::chrono::microseconds>(wall_now.time_since_epoch()).count();
  const int64_t reset_us = wall_us + ahead_us;
  const int64_t reset_s = reset_us / 1'000'000 + (reset_us % 1'000'000 > 0 ? 1 : 0);
  return std::to_string(reset_s);
}

class Session;

}  // namespace

class MockUpstreamServer::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(net::io_context& io, RealTimeUpstream& upstream, MockUpstreamServerOptions options)
      : upstream_(upstream), options_(std::move(options)), acceptor_(io), retry_(io) {}

  Status Start();
  void Stop();

  uint64_t Register(std::weak_ptr<Session> session) {
    const uint64_t id = next_session_++;
    sessions_.emplace(id, std::move(session));
    return id;
  }
  void Unregister(uint64_t id) {
    sessions_.erase(id);
    --open_;
  }

  RealTimeUpstream& upstream() { return upstream_; }
  const MockUpstreamServerOptions& options() const { return options_; }
  uint64_t NextCallId() { return next_call_id_++; }
  std::string StatsJson();

  std::atomic<size_t> open_{0};
  std::atomic<uint64_t> accepted_{0}, refused_{0}, requests_{0}, bad_{0}, timed_out_{0};
  uint16_t port_ = 0;

 private:
  void Accept();

  RealTimeUpstream& upstream_;
  MockUpstreamServerOptions options_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_;  // re-arms accepting after an error (e.g. no file descriptors)
  std::map<uint64_t, std::weak_ptr<Session>> sessions_;
  uint64_t next_session_ = 1;
  uint64_t next_call_id_ = 1;
  bool stopped_ = false;
};

namespace {

// One connection: reads a request, answers it after the model's latency,
// reads the next. Every step has a deadline (tcp_stream's expiry).
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<MockUpstreamServer::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)), timer_(stream_.get_executor()) {}
  ~Session() { server_->Unregister(id_); }

  void Start() {
    id_ = server_->Register(weak_from_this());
    Read();
  }

  // Closes the connection; pending handlers end with operation_aborted.
  void Close() {
    closed_ = true;
    timer_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  using Response = http::response<http::string_body>;

  void Read() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options().max_header_bytes));
    parser_->body_limit(server_->options().max_body_bytes);
    stream_.expires_after(ToChrono(server_->options().request_timeout));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t /*bytes*/) {
    if (closed_ || ec == net::error::operation_aborted) return;
    if (ec == beast::error::timeout) {
      ++server_->timed_out_;
      return Close();
    }
    if (ec == http::error::end_of_stream) return Close();
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      return Refuse(431, "the request line and headers exceed " +
                             std::to_string(server_->options().max_header_bytes) + " bytes");
    }
    if (ec == http::error::body_limit) {
      return Refuse(
          413, "the body exceeds " + std::to_string(server_->options().max_body_bytes) + " bytes");
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_method).category()) {
      return Refuse(400, "malformed HTTP request: " + ec.message());
    }
    if (ec) return Close();  // reset by the peer, or another socket error
    ++server_->requests_;
    Handle(parser_->release());
  }

  void Handle(http::request<http::string_body> request) {
    const bool keep_alive = request.keep_alive();
    const unsigned version = request.version();
    if (request.method() != http::verb::get) {
      auto response = MakeResponse(405, version, false, ErrorBody(405, "only GET is served"));
      response->set(http::field::allow, "GET");
      ++server_->bad_;
      return Write(std::move(response), true);
    }
    const std::string_view target(request.target().data(), request.target().size());
    if (target.substr(0, kOwnPrefix.size()) == kOwnPrefix)
      return HandleOwn(target, version, keep_alive);

    ParsedCall parsed = ParseCallTarget(target);
    if (!parsed.error.empty()) {
      ++server_->bad_;
      return Write(MakeResponse(400, version, keep_alive, ErrorBody(400, parsed.error)),
                   !keep_alive);
    }
    RealTimeUpstream& upstream = server_->upstream();
    UpstreamCall call;
    call.call_id = server_->NextCallId();
    call.api = upstream.model().name();
    call.endpoint = std::move(parsed.endpoint);
    call.keys = std::move(parsed.keys);
    call.kind = call.keys.size() > 1 ? CallKind::kBatch : CallKind::kFirstAttempt;
    const auto arrived = std::chrono::steady_clock::now();
    const auto wall_now = std::chrono::system_clock::now();
    const Instant scenario_now = upstream.ScenarioTime(arrived);
    orchsim::Response answer = upstream.Process(call, arrived);
    const auto due = arrived + ToChrono(answer.latency);

    if (answer.status == kStatusTransportError) {
      // The model's timeout: no answer; the connection ends after the latency.
      return After(due, [self = shared_from_this()] { self->Close(); });
    }
    std::string body;
    std::string content_type = "application/json";
    if (answer.ok()) {
      if (call.keys.size() == 1 && !answer.bodies.empty() && answer.bodies[0] != nullptr) {
        body = answer.bodies[0]->bytes;
        if (!answer.bodies[0]->content_type.empty()) content_type = answer.bodies[0]->content_type;
      } else {
        body = "[";
        for (size_t i = 0; i < answer.bodies.size(); ++i) {
          if (i > 0) body += ',';
          body += answer.bodies[i] != nullptr ? answer.bodies[i]->bytes : "null";
        }
        body += "]";
      }
    } else {
      body =
          ErrorBody(answer.status, Std(http::obsolete_reason(http::int_to_status(answer.status))));
    }
    auto response = MakeResponse(answer.status, version, keep_alive, std::move(body));
    response->set(http::field::content_type, content_type);
    for (const auto& [name, value] : answer.headers.entries()) {
      if (beast::iequals(name, "x-ratelimit-reset")) {
        response->set(name, TranslateEpochReset(value, scenario_now, wall_now));
      } else {
        response->set(name, value);
      }
    }
    char credits[32];
    const auto end = std::to_chars(credits, credits + sizeof credits, answer.credits_charged).ptr;
    response->set("X-Orchsim-Credits", beast::string_view(credits, end - credits));
    if (answer.ok()) {
      std::string versions;
      for (size_t i = 0; i < answer.payload_versions.size(); ++i) {
        if (i > 0) versions += ',';
        versions += std::to_string(answer.payload_versions[i]);
      }
      response->set("X-Orchsim-Versions", versions);
    }
    response->prepare_payload();
    After(due, [self = shared_from_this(), response = std::move(response), keep_alive]() mutable {
      self->Write(std::move(response), !keep_alive);
    });
  }

  void HandleOwn(std::string_view target, unsigned version, bool keep_alive) {
    const std::string_view path = target.substr(0, target.find('?'));
    if (path == "/_mock/healthz") {
      auto response = MakeResponse(200, version, keep_alive, "ok\n");
      response->set(http::field::content_type, "text/plain");
      return Write(std::move(response), !keep_alive);
    }
    if (path == "/_mock/stats") {
      return Write(MakeResponse(200, version, keep_alive, server_->StatsJson()), !keep_alive);
    }
    ++server_->bad_;
    Write(MakeResponse(404, version, keep_alive,
                       ErrorBody(404, "unknown path; /_mock/healthz and /_mock/stats are served")),
          !keep_alive);
  }

  std::unique_ptr<Response> MakeResponse(int status, unsigned version, bool keep_alive,
                                         std::string body) {
    auto response = std::make_unique<Response>();
    response->result(static_cast<unsigned>(status));
    response->version(version);
    response->set(http::field::server, Beast(kServerName));
    response->set(http::field::content_type, "application/json");
    response->keep_alive(keep_alive);
    response->body() = std::move(body);
    response->prepare_payload();
    return response;
  }

  // An answer to a request that cannot be read further; closes afterwards.
  void Refuse(int status, const std::string& reason) {
    ++server_->bad_;
    Write(MakeResponse(status, 11, false, ErrorBody(status, reason)), true);
  }

  template <typename Fn>
  void After(std::chrono::steady_clock::time_point due, Fn fn) {
    timer_.expires_at(due);
    timer_.async_wait(
        [self = shared_from_this(), fn = std::move(fn)](beast::error_code ec) mutable {
          if (ec || self->closed_) return;
          fn();
        });
  }

  void Write(std::unique_ptr<Response> response, bool close_after) {
    if (closed_) return;
    response_ = std::move(response);
    stream_.expires_after(ToChrono(server_->options().write_timeout));
    http::async_write(stream_, *response_,
                      [self = shared_from_this(), close_after](beast::error_code ec, size_t) {
                        self->OnWrite(ec, close_after);
                      });
  }

  void OnWrite(beast::error_code ec, bool close_after) {
    response_.reset();
    if (closed_ || ec == net::error::operation_aborted) return;
    if (ec == beast::error::timeout) ++server_->timed_out_;
    if (ec || close_after) {
      // Let the client read the answer before the connection goes.
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return Close();
    }
    Read();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<MockUpstreamServer::Impl> server_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<Response> response_;
  uint64_t id_ = 0;
  bool closed_ = false;
};

}  // namespace

Status MockUpstreamServer::Impl::Start() {
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(options_.address, ec);
  if (ec) {
    return Status::InvalidArgument("listen address \"" + options_.address +
                                   "\" is not an IP address: " + ec.message());
  }
  const tcp::endpoint endpoint(address, options_.port);
  const std::string where = options_.address + ":" + std::to_string(options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close();
    return Status::InvalidArgument("cannot listen on " + where + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  Accept();
  return Status::Ok();
}

void MockUpstreamServer::Impl::Accept() {
  acceptor_.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopped_ || ec == net::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors or similar: try again shortly, do not spin.
      self->retry_.expires_after(std::chrono::milliseconds(50));
      self->retry_.async_wait([self](beast::error_code wait_ec) {
        if (!wait_ec && !self->stopped_) self->Accept();
      });
      return;
    }
    if (self->open_ >= self->options_.max_connections) {
      ++self->refused_;
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      ++self->accepted_;
      ++self->open_;
      std::make_shared<Session>(std::move(socket), self)->Start();
    }
    self->Accept();
  });
}

void MockUpstreamServer::Impl::Stop() {
  if (stopped_) return;
  stopped_ = true;
  beast::error_code ec;
  acceptor_.close(ec);
  retry_.cancel();
  // Close() may end a session (and Unregister it): iterate over a copy.
  std::vector<std::weak_ptr<Session>> sessions;
  for (const auto& [id, session] : sessions_) sessions.push_back(session);
  for (const auto& weak : sessions) {
    if (std::shared_ptr<Session> session = weak.lock()) session->Close();
  }
}

std::string MockUpstreamServer::Impl::StatsJson() {
  const world::MockUpstream& model = upstream_.model();
  const world::UpstreamCounters& c = model.counters();
  nlohmann::ordered_json stats;
  stats["api"] = model.name();
  const Instant now = upstream_.ScenarioTime(std::chrono::steady_clock::now());
  stats["scenario_time"] = FormatInstant(now);
  stats["calls"] = c.calls;
  stats["keys_requested"] = c.keys_requested;
  stats["credits_charged"] = c.credits_charged;
  nlohmann::ordered_json statuses = nlohmann::ordered_json::object();
  for (const auto& [status, count] : c.status_counts) statuses[std::to_string(status)] = count;
  stats["statuses"] = statuses;
  nlohmann::ordered_json endpoints = nlohmann::ordered_json::object();
  for (const auto& [endpoint, count] : c.calls_by_endpoint) endpoints[endpoint] = count;
  stats["calls_by_endpoint"] = endpoints;
  stats["outage_answers"] = c.outage_answers;
  stats["down_answers"] = c.down_answers;
  stats["rate_limited"] = c.rate_limited;
  stats["batch_rejected"] = c.batch_rejected;
  stats["quota_rejected"] = c.quota_rejected;
  stats["injected_errors"] = c.injected_errors;
  stats["timeouts"] = c.timeouts;
  stats["connections_open"] = open_.load();
  stats["connections_accepted"] = accepted_.load();
  stats["connections_refused"] = refused_.load();
  stats["requests"] = requests_.load();
  stats["bad_requests"] = bad_.load();
  stats["timed_out"] = timed_out_.load();
  return stats.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

MockUpstreamServer::MockUpstreamServer(net::io_context& io, RealTimeUpstream& upstream,
                                       MockUpstreamServerOptions options)
    : impl_(std::make_shared<Impl>(io, upstream, std::move(options))) {}

MockUpstreamServer::~MockUpstreamServer() { Stop(); }

Status MockUpstreamServer::Start() { return impl_->Start(); }
uint16_t MockUpstreamServer::port() const { return impl_->port_; }
void MockUpstreamServer::Stop() { impl_->Stop(); }
size_t MockUpstreamServer::connections() const { return impl_->open_.load(); }

MockUpstreamServerStats MockUpstreamServer::stats() const {
  MockUpstreamServerStats s;
  s.connections_accepted = impl_->accepted_.load();
  s.connections_refused = impl_->refused_.load();
  s.requests = impl_->requests_.load();
  s.bad_requests = impl_->bad_.load();
  s.timed_out = impl_->timed_out_.load();
  return s;
}

}  // namespace orchsim::live
