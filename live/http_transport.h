// http_transport.h — the core's Transport port over HTTP/1.1 (Boost.Beast):
// one upstream call = one GET to a URL the host's resolver chooses.
//
// Origins. The host registers each upstream origin (scheme, host, port) with
// its limits (AddOrigin); the resolver maps an UpstreamCall to an origin, a
// request target ("/v4/sports/nfl/odds?regions=us") and extra headers (the
// auth header). Per origin the transport keeps a pool of keep-alive
// connections (at most max_connections open; idle ones are reused most
// recently used first and closed after idle_timeout) and a FIFO of calls
// waiting for a connection (at most max_waiting; beyond that a call fails
// at once). A reused connection that fails before any byte of a response
// arrived (the server closed it while idle) is replaced and the call tried
// once more on a fresh connection; GETs are idempotent.
//
// TLS: OpenSSL through Asio, the certificate chain verified against the
// system CA store (or the origin's ca_file) and the host name against the
// certificate; SNI is sent for names.
//
// Answers (the Transport contract in policies/ports.h):
//   - the upstream's status, every response header (repeated names joined
//     with ", ", so contradictory quota headers reach the core as they came),
//     the body in bodies[0] with the response's Content-Type;
//   - credits_charged: the x-requests-last header when it is a number
//     (The Odds API), else the target's credits_if_unreported;
//   - kStatusTransportError (599) when no answer came (resolve, connect, TLS,
//     write or read failed or timed out, the body or head exceeded its
//     limit, the resolver refused the call), with the reason in the header
//     x-orchsim-transport-error;
//   - after Cancel, kStatusCancelled (499): the call is taken off its
//     connection, which is closed (the upstream is not told more), and the
//     confirmation is posted to the loop. Cancel of an unknown or finished
//     handle does nothing.
// Callbacks run on the io_context's thread, exactly once, never inside Send
// or Cancel. After Stop() no callback runs any more (pending ones are
// dropped) and every connection is closed; the owner may then destroy the
// orchestrator and the transport in any order.
//
// Thread rules: one io_context thread; Send/Cancel/Stop from that thread.
#ifndef ORCHSIM_LIVE_HTTP_TRANSPORT_H_
#define ORCHSIM_LIVE_HTTP_TRANSPORT_H_

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "live/http_connection.h"
#include "live/url.h"
#include "policies/ports.h"
#include "policies/status.h"

namespace orchsim::live {

struct OriginOptions {
  ConnectionLimits limits;
  size_t max_connections = 8;  // open connections (connecting, busy or idle)
  size_t max_waiting = 1024;   // calls waiting for a connection
  Duration idle_timeout = Seconds(30);
  std::string ca_file;  // PEM file of trusted CAs; "" = the system store
  std::string user_agent = "orchsim";
};

// Where one call goes.
struct HttpTarget {
  int origin = -1;                                           // from AddOrigin
  std::string target;                                        // "/path?query"
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  double credits_if_unreported = 0.0;
};

class HttpTransport : public Transport {
 public:
  using Resolver = std::function<StatusOr<HttpTarget>(const UpstreamCall&)>;

  struct Stats {
    uint64_t calls = 0;
    uint64_t connections_opened = 0;
    uint64_t exchanges_on_reused_connections = 0;
    uint64_t stale_connection_retries = 0;  // reused connection was dead: tried again
    uint64_t transport_errors = 0;          // calls answered 599
    uint64_t cancelled = 0;                 // calls answered 499
  };

  // REQUIRES: `io` and `clock` outlive the transport.
  HttpTransport(boost::asio::io_context& io, const Clock& clock, Resolver resolver);
  ~HttpTransport() override;
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Registers an origin (the base URL's path is not used here); returns its
  // id, or an error (a TLS CA file that cannot be loaded).
  StatusOr<int> AddOrigin(const BaseUrl& url, const OriginOptions& options);

  CallHandle Send(const UpstreamCall& call, ResponseCallback on_response) override;
  void Cancel(CallHandle handle) override;
  // Closes every connection and drops every pending callback; Send after
  // Stop answers nothing.
  void Stop();

  const Stats& stats() const { return stats_; }
  // Calls not yet called back (queued, on a connection, or being confirmed).
  size_t calls_pending() const { return calls_.size(); }
  // Connections open to `origin` (connecting, busy or idle) and idle ones.
  size_t open_connections(int origin) const;
  size_t idle_connections(int origin) const;

 private:
  struct Origin;
  struct Call {
    CallHandle handle = 0;
    ResponseCallback on_response;
    Origin* origin = nullptr;
    HttpTarget target;
    Instant sent_at;
    std::shared_ptr<HttpConnection> connection;  // while on a connection
    int tries = 0;
  };
  struct Origin {
    int id = 0;
    BaseUrl url;
    std::string host_header;  // url.host_header(), once
    OriginOptions options;
    std::unique_ptr<boost::asio::ssl::context> tls;
    std::vector<std::shared_ptr<HttpConnection>> idle;
    size_t open = 0;
    std::deque<CallHandle> waiting;
  };

  // Starts waiting calls on idle or new connections, within the limits.
  void Pump(Origin& origin);
  void StartOnConnection(Origin& origin, CallHandle handle,
                         std::shared_ptr<HttpConnection> connection, bool fresh);
  void OnExchanged(Origin& origin, CallHandle handle, std::shared_ptr<HttpConnection> connection,
                   bool fresh, HttpConnection::ExchangeResult&& result);
  // Closes a connection that leaves the pool and frees its slot.
  void Discard(Origin& origin, const std::shared_ptr<HttpConnection>& connection);
  void Park(Origin& origin, std::shared_ptr<HttpConnection> connection);
  // Takes the call out of the table and calls it back now (from a handler).
  void Finish(CallHandle handle, Response response);
  // Calls back later, from the loop (never inside Send/Cancel).
  void Post(ResponseCallback callback, Response response);
  // A 599 answer with the reason in x-orchsim-transport-error (counted).
  Response TransportError(const Call& call, const std::string& reason);

  boost::asio::io_context& io_;
  const Clock& clock_;
  Resolver resolver_;
  std::vector<std::unique_ptr<Origin>> origins_;
  std::unordered_map<CallHandle, Call> calls_;
  CallHandle next_handle_ = 1;
  Stats stats_;
  std::string head_scratch_;  // a request head being written (capacity reused)
  bool stopped_ = false;
  // Posted callbacks hold a weak reference: after Stop they do nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_HTTP_TRANSPORT_H_
