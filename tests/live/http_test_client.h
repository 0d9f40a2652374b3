// http_test_client.h — a minimal blocking HTTP/1.1 client over a loopback
// socket for the live tests: it sends whatever bytes a test gives it (well
// formed or hostile) and reads one answer, every wait bounded by a timeout.
#ifndef ORCHSIM_TESTS_LIVE_HTTP_TEST_CLIENT_H_
#define ORCHSIM_TESTS_LIVE_HTTP_TEST_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace orchsim::testing {

struct HttpAnswer {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpTestClient {
 public:
  HttpTestClient() = default;
  ~HttpTestClient() { Close(); }
  HttpTestClient(const HttpTestClient&) = delete;
  HttpTestClient& operator=(const HttpTestClient&) = delete;

  bool Connect(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }
  bool Get(const std::string& target, const std::string& extra_headers = "") {
    return Send("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers + "\r\n");
  }

  // One answer, or nullopt when the connection closed or `timeout` passed first.
  std::optional<HttpAnswer> Read(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t header_end;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return std::nullopt;
    }
    HttpAnswer answer;
    const std::string head = pending_.substr(0, header_end);
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12) return std::nullopt;
    answer.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos && line_end < head.size()) {
      const size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end - start);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      answer.headers[name] = value;
    }
    const size_t length =
        std::stoul(answer.Header("content-length").empty() ? "0" : answer.Header("content-length"));
    pending_.erase(0, header_end + 4);
    while (pending_.size() < length) {
      if (!Fill(deadline)) return std::nullopt;
    }
    answer.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return answer;
  }

  // True when the peer closes the connection (orderly or by reset) within
  // `timeout`, discarding anything it sends before.
  bool ClosedByPeer(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const int r = Wait(deadline);
      if (r <= 0) return false;
      char buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return true;
    }
  }

 private:
  // 1 readable, 0 timeout, -1 error.
  int Wait(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return 0;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(left.count()));
  }
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    if (Wait(deadline) <= 0) return false;
    char buffer[65536];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    pending_.append(buffer, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string pending_;
};

}  // namespace orchsim::testing

#endif  // ORCHSIM_TESTS_LIVE_HTTP_TEST_CLIENT_H_
