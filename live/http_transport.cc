#include "live/http_transport.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cassert>

#include "live/http_wire.h"
#include "policies/quota_headers.h"

namespace orchsim::live {

namespace net = boost::asio;

namespace {

constexpr const char* kTransportErrorHeader = "x-orchsim-transport-error";

}  // namespace

HttpTransport::HttpTransport(net::io_context& io, const Clock& clock, Resolver resolver)
    : io_(io), clock_(clock), resolver_(std::move(resolver)) {}

HttpTransport::~HttpTransport() { Stop(); }

StatusOr<int> HttpTransport::AddOrigin(const BaseUrl& url, const OriginOptions& options) {
  auto origin = std::make_unique<Origin>();
  origin->id = static_cast<int>(origins_.size());
  origin->url = url;
  origin->host_header = url.host_header();
  origin->options = options;
  if (url.tls) {
    auto tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    if (options.ca_file.empty()) {
      tls->set_default_verify_paths(ec);
      if (ec) return Status::InvalidArgument("cannot load the system CA store: " + ec.message());
    } else {
      tls->load_verify_file(options.ca_file, ec);
      if (ec) {
        return Status::InvalidArgument("cannot load CA file " + options.ca_file + ": " +
                                       ec.message());
      }
    }
    tls->set_verify_mode(net::ssl::verify_peer);
    origin->tls = std::move(tls);
  }
  origins_.push_back(std::move(origin));
  return origins_.back()->id;
}

size_t HttpTransport::open_connections(int origin) const {
  return origin >= 0 && origin < static_cast<int>(origins_.size()) ? origins_[origin]->open : 0;
}

size_t HttpTransport::idle_connections(int origin) const {
  return origin >= 0 && origin < static_cast<int>(origins_.size()) ? origins_[origin]->idle.size()
                                                                   : 0;
}

// ---------------------------------------------------------------- Send / Cancel

Transport::CallHandle HttpTransport::Send(const UpstreamCall& upstream_call,
                                          ResponseCallback on_response) {
  const CallHandle handle = next_handle_++;
  ++stats_.calls;
  if (stopped_) return handle;
  Call call;
  call.handle = handle;
  call.on_response = std::move(on_response);
  call.sent_at = clock_.now();
  StatusOr<HttpTarget> target = resolver_(upstream_call);
  std::string refusal;
  if (!target.ok()) {
    refusal = target.status().message();
  } else if (target->origin < 0 || target->origin >= static_cast<int>(origins_.size())) {
    refusal = "no origin " + std::to_string(target->origin);
  } else if (origins_[target->origin]->waiting.size() >=
             origins_[target->origin]->options.max_waiting) {
    refusal =
        "too many calls waiting for a connection to " + origins_[target->origin]->url.origin();
  }
  if (!refusal.empty()) {
    Post(std::move(call.on_response), TransportError(call, refusal));
    return handle;
  }
  Origin& origin = *origins_[target->origin];
  call.origin = &origin;
  call.target = std::move(target.value());
  calls_.emplace(handle, std::move(call));
  origin.waiting.push_back(handle);
  Pump(origin);
  return handle;
}

void HttpTransport::Cancel(CallHandle handle) {
  auto it = calls_.find(handle);
  if (it == calls_.end()) return;  // unknown, answered, or its answer is being delivered
  Call call = std::move(it->second);
  calls_.erase(it);
  Origin& origin = *call.origin;
  if (call.connection) {
    Discard(origin, call.connection);  // the exchange's handler finds no call and stops
  } else {
    origin.waiting.erase(std::remove(origin.waiting.begin(), origin.waiting.end(), handle),
                         origin.waiting.end());
  }
  ++stats_.cancelled;
  Response confirmation;
  confirmation.status = kStatusCancelled;
  confirmation.latency = clock_.now() - call.sent_at;
  Post(std::move(call.on_response), std::move(confirmation));
  Pump(origin);
}

void HttpTransport::Stop() {
  if (stopped_) return;
  stopped_ = true;
  alive_.reset();  // queued handlers and posted callbacks do nothing from here on
  for (auto& [handle, call] : calls_) {
    if (call.connection) call.connection->Close();
  }
  calls_.clear();
  for (auto& origin : origins_) {
    for (auto& connection : origin->idle) connection->Close();
    origin->idle.clear();
    origin->waiting.clear();
    origin->open = 0;
  }
}

// ---------------------------------------------------------------- the pool

void HttpTransport::Pump(Origin& origin) {
  while (!origin.waiting.empty() && !stopped_) {
    std::shared_ptr<HttpConnection> connection;
    bool fresh = false;
    if (!origin.idle.empty()) {
      connection = std::move(origin.idle.back());
      origin.idle.pop_back();
    } else if (origin.open < origin.options.max_connections) {
      ++origin.open;
      ++stats_.connections_opened;
      connection = std::make_shared<HttpConnection>(io_, origin.tls.get(), origin.url,
                                                    origin.options.limits);
      fresh = true;
    } else {
      return;  // every connection is busy: the call waits its turn
    }
    const CallHandle handle = origin.waiting.front();
    origin.waiting.pop_front();
    StartOnConnection(origin, handle, std::move(connection), fresh);
  }
}

void HttpTransport::StartOnConnection(Origin& origin, CallHandle handle,
                                      std::shared_ptr<HttpConnection> connection, bool fresh) {
  Call& call = calls_.at(handle);
  call.connection = connection;
  ++call.tries;
  std::weak_ptr<bool> alive = alive_;
  Origin* o = &origin;
  auto exchange = [this, alive, o, handle, fresh](std::shared_ptr<HttpConnection> c) {
    const Call& current = calls_.at(handle);
    // The head is written when the call gets its connection (one scratch
    // string, no per-call allocation); the connection keeps its own copy.
    const std::array<FieldView, 3> base = {FieldView{"Host", o->host_header},
                                           FieldView{"User-Agent", o->options.user_agent},
                                           FieldView{"Accept", "*/*"}};
    head_scratch_.clear();
    AppendGetHead(head_scratch_, current.target.target, base, current.target.headers);
    c->Exchange(head_scratch_,
                [this, alive, o, handle, c, fresh](HttpConnection::ExchangeResult&& result) {
                  if (alive.expired()) return;
                  OnExchanged(*o, handle, c, fresh, std::move(result));
                });
  };
  if (!fresh) {
    ++stats_.exchanges_on_reused_connections;
    exchange(std::move(connection));
    return;
  }
  connection->Connect([this, alive, o, handle, connection, exchange](const std::string& error) {
    if (alive.expired()) return;
    auto it = calls_.find(handle);
    if (it == calls_.end() || it->second.connection != connection) return;  // cancelled
    if (!error.empty()) {
      it->second.connection.reset();
      Discard(*o, connection);
      Response failure = TransportError(it->second, error);
      Finish(handle, std::move(failure));
      Pump(*o);
      return;
    }
    exchange(connection);
  });
}

void HttpTransport::OnExchanged(Origin& origin, CallHandle handle,
                                std::shared_ptr<HttpConnection> connection, bool fresh,
                                HttpConnection::ExchangeResult&& result) {
  auto it = calls_.find(handle);
  if (it == calls_.end() || it->second.connection != connection) return;  // cancelled
  Call& call = it->second;
  call.connection.reset();
  if (!result.error.empty()) {
    Discard(origin, connection);
    if (!fresh && !result.got_bytes && call.tries == 1) {
      // The server closed the idle connection: nothing was answered, so the
      // GET goes again, first in line, on a fresh connection.
      ++stats_.stale_connection_retries;
      origin.waiting.push_front(handle);
      Pump(origin);
      return;
    }
    Response failure = TransportError(call, result.error);
    Finish(handle, std::move(failure));
    Pump(origin);
    return;
  }
  Response response;
  response.status = result.status;
  response.headers = std::move(result.headers);
  response.credits_charged = call.target.credits_if_unreported;
  if (const std::string* last = response.headers.Find("x-requests-last")) {
    if (auto milli = ParseMilliCredits(*last, /*round_up=*/true)) {
      response.credits_charged = FromMilliCredits(*milli);
    }
  }
  response.bodies.push_back(MakeBody(std::move(result.content_type), std::move(result.body)));
  response.latency = clock_.now() - call.sent_at;
  // The connection is back in the pool before the core hears the answer:
  // a call it sends from its callback may use it at once.
  if (result.keep_alive) {
    Park(origin, std::move(connection));
  } else {
    Discard(origin, connection);
  }
  Finish(handle, std::move(response));
  Pump(origin);
}

void HttpTransport::Discard(Origin& origin, const std::shared_ptr<HttpConnection>& connection) {
  connection->Close();
  assert(origin.open > 0);
  if (origin.open > 0) --origin.open;
}

void HttpTransport::Park(Origin& origin, std::shared_ptr<HttpConnection> connection) {
  std::weak_ptr<bool> alive = alive_;
  std::weak_ptr<HttpConnection> weak = connection;
  Origin* o = &origin;
  connection->StartIdle(origin.options.idle_timeout, [this, alive, o, weak] {
    if (alive.expired()) return;
    std::shared_ptr<HttpConnection> c = weak.lock();
    if (!c) return;
    auto it = std::find(o->idle.begin(), o->idle.end(), c);
    if (it == o->idle.end()) return;
    o->idle.erase(it);
    Discard(*o, c);
  });
  origin.idle.push_back(std::move(connection));
}

// ---------------------------------------------------------------- answers

void HttpTransport::Finish(CallHandle handle, Response response) {
  auto it = calls_.find(handle);
  if (it == calls_.end()) return;
  ResponseCallback callback = std::move(it->second.on_response);
  calls_.erase(it);
  callback(response);
}

void HttpTransport::Post(ResponseCallback callback, Response response) {
  std::weak_ptr<bool> alive = alive_;
  net::post(io_, [alive, callback = std::move(callback), response = std::move(response)] {
    if (!alive.expired()) callback(response);
  });
}

Response HttpTransport::TransportError(const Call& call, const std::string& reason) {
  ++stats_.transport_errors;
  Response response;
  response.status = kStatusTransportError;
  response.headers.Set(kTransportErrorHeader, reason);
  response.latency = clock_.now() - call.sent_at;
  return response;
}

}  // namespace orchsim::live
