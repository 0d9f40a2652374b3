// test_http.h — loopback HTTP for the live/ tests, on plain POSIX sockets so
// a test controls every byte: TestUpstream, a tiny upstream server whose
// handler decides each answer (status, headers, body, a delay, never
// answering, a reset, raw garbage), and HttpGet, a blocking client.
//
// TestUpstream listens on 127.0.0.1 at an ephemeral port, serves each
// connection on its own thread (keep-alive), and notices when a client
// closes a connection while it holds an answer back (client_closes). Every
// wait polls in 20 ms steps and ends when the upstream is destroyed, so a
// test never hangs on it.
#ifndef ORCHSIM_TESTS_LIVE_TEST_HTTP_H_
#define ORCHSIM_TESTS_LIVE_TEST_HTTP_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace orchsim::live::testing {

inline std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct SeenRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names in lower case
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};
  bool close = false;  // Connection: close after this answer
  bool never = false;  // hold the answer until the client gives up
  bool reset = false;  // reset the connection instead of answering
  std::string raw;     // when set: these bytes instead of an HTTP answer, then close
};

class TestUpstream {
 public:
  using Handler = std::function<Reply(const SeenRequest&)>;

  explicit TestUpstream(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 128);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~TestUpstream() {
    stop_ = true;
    acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
    ::close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  int open_connections() const { return open_.load(); }
  // Connections a client closed while an answer was held back.
  int client_closes() const { return client_closes_.load(); }
  std::vector<SeenRequest> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ++connections_;
      ++open_;
      std::lock_guard lock(mutex_);
      threads_.emplace_back([this, fd] {
        Serve(fd);
        ::close(fd);
        --open_;
      });
    }
  }

  // Waits up to `ms` for the client to close (true) while nothing arrives.
  bool ClientClosedWithin(int fd, int64_t ms) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!stop_ && std::chrono::steady_clock::now() < end) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) {
        char c;
        if (::recv(fd, &c, 1, MSG_PEEK) <= 0) return true;
        // Bytes of a next request: keep them for later.
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    return false;
  }

  void Serve(int fd) {
    std::string buffer;
    while (!stop_) {
      size_t end;
      while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        if (stop_) return;
        if (::poll(&p, 1, 20) <= 0) continue;
        char chunk[4096];
        const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0) return;
        buffer.append(chunk, static_cast<size_t>(n));
      }
      SeenRequest request = Parse(buffer.substr(0, end));
      buffer.erase(0, end + 4);
      ++requests_;
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(request);
      }
      const Reply reply = handler_(request);
      if (reply.reset) {
        linger l{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        return;
      }
      if (reply.never) {
        while (!stop_) {
          if (ClientClosedWithin(fd, 1000)) {
            ++client_closes_;
            return;
          }
        }
        return;
      }
      if (reply.delay.count() > 0 && ClientClosedWithin(fd, reply.delay.count())) {
        ++client_closes_;
        return;
      }
      std::string out = reply.raw;
      if (out.empty()) {
        out = "HTTP/1.1 " + std::to_string(reply.status) + " X\r\n";
        if (!reply.content_type.empty()) out += "Content-Type: " + reply.content_type + "\r\n";
        for (const auto& [name, value] : reply.headers) out += name + ": " + value + "\r\n";
        out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
        if (reply.close) out += "Connection: close\r\n";
        out += "\r\n" + reply.body;
      }
      size_t sent = 0;
      while (sent < out.size()) {
        const ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return;
        sent += static_cast<size_t>(n);
      }
      if (reply.close || !reply.raw.empty()) return;
    }
  }

  static SeenRequest Parse(const std::string& head) {
    SeenRequest r;
    size_t line_end = head.find("\r\n");
    const std::string first = head.substr(0, line_end);
    const size_t sp1 = first.find(' ');
    const size_t sp2 = first.find(' ', sp1 + 1);
    r.method = first.substr(0, sp1);
    r.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t next = head.find("\r\n", pos);
      if (next == std::string::npos) next = head.size();
      const std::string line = head.substr(pos, next - pos);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        size_t v = colon + 1;
        while (v < line.size() && line[v] == ' ') ++v;
        r.headers[Lower(line.substr(0, colon))] = line.substr(v);
      }
      pos = next + 2;
    }
    return r;
  }

  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<SeenRequest> seen_;
  std::atomic<int> connections_{0}, requests_{0}, open_{0}, client_closes_{0};
};

struct HttpAnswer {
  int status = 0;                              // 0: no answer (connection failed or closed)
  std::map<std::string, std::string> headers;  // lower case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(Lower(name));
    return it == headers.end() ? "" : it->second;
  }
};

// Sends `raw` (a whole request) to 127.0.0.1:port on a new connection and
// reads one answer (Content-Length bodies), waiting at most `timeout`.
inline HttpAnswer RawExchange(uint16_t port, const std::string& raw,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  HttpAnswer answer;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return answer;
  }
  ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
  std::string buffer;
  const auto end = std::chrono::steady_clock::now() + timeout;
  size_t head_end = std::string::npos;
  size_t content_length = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (head_end != std::string::npos && buffer.size() >= head_end + 4 + content_length) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    char chunk[65536];
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    if (head_end == std::string::npos &&
        (head_end = buffer.find("\r\n\r\n")) != std::string::npos) {
      size_t pos = buffer.find("\r\n") + 2;
      answer.status = std::stoi(buffer.substr(9, 3));
      while (pos < head_end) {
        const size_t next = buffer.find("\r\n", pos);
        const std::string line = buffer.substr(pos, next - pos);
        const size_t colon = line.find(':');
        if (colon != std::string::npos) {
          size_t v = colon + 1;
          while (v < line.size() && line[v] == ' ') ++v;
          answer.headers[Lower(line.substr(0, colon))] = line.substr(v);
        }
        pos = next + 2;
      }
      const std::string length = answer.header("content-length");
      content_length = length.empty() ? 0 : std::stoul(length);
    }
  }
  ::close(fd);
  if (head_end == std::string::npos) {
    answer.status = 0;
    return answer;
  }
  answer.body = buffer.substr(head_end + 4, content_length);
  return answer;
}

// GET `target` with extra header lines ("Name: value").
inline HttpAnswer HttpGet(uint16_t port, const std::string& target,
                          const std::vector<std::string>& headers = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  std::string raw = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const std::string& h : headers) raw += h + "\r\n";
  raw += "\r\n";
  return RawExchange(port, raw, timeout);
}

// Polls `condition` every 5 ms for at most `limit`.
template <typename Condition>
bool WaitFor(Condition condition, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace orchsim::live::testing

#endif  // ORCHSIM_TESTS_LIVE_TEST_HTTP_H_
