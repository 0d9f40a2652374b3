// mock_upstream_server.h — a scenario's mocked upstream served over real
// HTTP/1.1 (Boost.Beast), answering in real time: `orchsim mock-upstream`.
//
// Requests (README "Mock upstream over HTTP" is the user's reference):
//   GET /<endpoint>?key=K           one call for key K
//   GET /<endpoint>?keys=K1,K2,...  one batch call for several keys
// <endpoint> is the path without its leading '/', percent-decoded (it may
// contain '/'); query values are percent-decoded ('+' is a space); other
// query parameters are ignored (an api key, regions...). Exactly one of key
// and keys is required, keys non-empty (else 400). Only GET is served (405).
// Paths under /_mock/ are the server's own and are not calls:
//   GET /_mock/healthz  200 "ok"
//   GET /_mock/stats    200, JSON: the model's counters (calls, keys,
//                       statuses, credits, rate_limited, quota_rejected,
//                       outage/down answers, injected errors, timeouts,
//                       batch_rejected), the scenario time and health state.
//
// Answers: each call is evaluated by RealTimeUpstream::Process at its
// arrival (outage window, health chain, rate limit, batch capacity, quota,
// injected errors — mock_upstream.h's order), and the answer is written
// after its latency, waited with a timer (the event loop keeps serving other
// connections meanwhile). The status and headers are the model's (quota
// headers in the scenario's style, Retry-After on 429 and IETF exhaustion),
// plus Content-Type, X-Orchsim-Credits (credits charged) and, on 2xx,
// X-Orchsim-Versions (payload version per key, comma-separated). GitHub's
// x-ratelimit-reset is an epoch instant: it is translated from scenario time
// to this machine's wall clock, so a real client compares it with its own
// clock. Bodies: 200 with one key is the model's JSON for it
// ({"api":..,"endpoint":..,"key":..,"version":N}); a batch is a JSON array
// of those in the order of the keys; other statuses carry
// {"status":N,"error":"<reason phrase>"}. A timeout of the model (status
// 599: injected timeouts, a down state answering 599) sends no answer: the
// connection is closed after the model's timeout latency.
//
// Connections: HTTP/1.1 keep-alive (requests on one connection are answered
// in order, one at a time), Connection: close and HTTP/1.0 honoured. Every
// step is bounded: a connection must deliver each complete request within
// request_timeout (counted from its start or its previous answer; this also
// closes idle keep-alive connections), an answer must be written within
// write_timeout, the request line and headers may take max_header_bytes (431
// beyond), a body max_body_bytes (413 beyond), anything unparseable gets 400,
// and beyond max_connections new connections are closed at once. Each of
// these answers closes the connection.
//
// Threads: everything runs on the io_context's thread(s); the io_context
// must be run by ONE thread (the model is not thread-safe). connections()
// and the accepted/refused counters may be read from any thread.
// REQUIRES: the RealTimeUpstream outlives the server and the io_context's
// last handler. Stop() (or the destructor) closes the listener and every
// connection; answers not yet written are dropped.
#ifndef ORCHSIM_LIVE_MOCK_UPSTREAM_SERVER_H_
#define ORCHSIM_LIVE_MOCK_UPSTREAM_SERVER_H_

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "live/realtime_upstream.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim::live {

struct MockUpstreamServerOptions {
  std::string address = "127.0.0.1";  // IPv4 or IPv6 literal
  uint16_t port = 0;                  // 0: an ephemeral port (see port())
  size_t max_connections = 1024;
  Duration request_timeout = Seconds(30);
  Duration write_timeout = Seconds(10);
  size_t max_header_bytes = 8 * 1024;
  size_t max_body_bytes = 64 * 1024;
};

// Counters of the server itself (the model counts calls).
struct MockUpstreamServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // beyond max_connections
  uint64_t requests = 0;             // complete requests read (calls and /_mock/)
  uint64_t bad_requests = 0;         // answered 400, 405, 413 or 431
  uint64_t timed_out = 0;            // connections closed by a timeout
};

class MockUpstreamServer {
 public:
  MockUpstreamServer(boost::asio::io_context& io, RealTimeUpstream& upstream,
                     MockUpstreamServerOptions options);
  ~MockUpstreamServer();  // Stop()
  MockUpstreamServer(const MockUpstreamServer&) = delete;
  MockUpstreamServer& operator=(const MockUpstreamServer&) = delete;

  // Binds and listens, and starts accepting (on the io_context). Fails with
  // a Status naming the address and the reason (address in use, not an IP).
  Status Start();
  // The bound port (valid after a successful Start).
  uint16_t port() const;
  // Closes the listener and every open connection. Idempotent. Call on the
  // io_context's thread, or after it has stopped running.
  void Stop();

  // Connections open now (any thread).
  size_t connections() const;
  MockUpstreamServerStats stats() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_MOCK_UPSTREAM_SERVER_H_
