// HttpTransport over TLS against an in-test TLS server with a certificate
// made by the test: trusted through ca_file it answers; the system store
// does not know it (verification fails); a certificate for another name
// fails host-name verification.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "live/asio_ports.h"
#include "live/http_transport.h"

namespace orchsim::live {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

struct Pem {
  std::string cert, key;
};

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

// A self-signed certificate (P-256) for `subject_alt_names`, e.g.
// "IP:127.0.0.1,DNS:localhost".
Pem MakeCertificate(const std::string& subject_alt_names) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("orchsim test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, subject_alt_names.c_str());
  X509_add_ext(cert, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(cert, key, EVP_sha256());
  Pem pem;
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  pem.cert = BioText(bio);
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  pem.key = BioText(bio);
  BIO_free(bio);
  X509_free(cert);
  EVP_PKEY_free(key);
  return pem;
}

// Serves one TLS connection (one request) on 127.0.0.1, for at most 5 s.
class TlsServer {
 public:
  explicit TlsServer(const Pem& pem) : tls_(net::ssl::context::tls_server), acceptor_(io_) {
    tls_.use_certificate_chain(net::buffer(pem.cert));
    tls_.use_private_key(net::buffer(pem.key), net::ssl::context::pem);
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] {
      acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec) return;
        net::ssl::stream<tcp::socket> stream(std::move(socket), tls_);
        boost::system::error_code e;
        stream.handshake(net::ssl::stream_base::server, e);
        if (e) return;  // the client refused the certificate
        handshakes_ok_ = true;
        boost::beast::flat_buffer buffer;
        http::request<http::string_body> request;
        http::read(stream, buffer, request, e);
        if (e) return;
        http::response<http::string_body> response(http::status::ok, 11);
        response.set(http::field::content_type, "text/plain");
        response.body() = "secure " + std::string(request.target());
        response.prepare_payload();
        http::write(stream, response, e);
      });
      io_.run_for(std::chrono::seconds(5));
    });
  }
  ~TlsServer() {
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return port_; }
  bool handshakes_ok() const { return handshakes_ok_; }

 private:
  net::io_context io_;
  net::ssl::context tls_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> handshakes_ok_{false};
  std::thread thread_;
};

// One GET through an HttpTransport to https://<host>:<port>.
Response Fetch(const std::string& host, uint16_t port, const std::string& ca_file) {
  net::io_context io;
  AsioClock clock;
  HttpTransport transport(io, clock, [](const UpstreamCall&) -> StatusOr<HttpTarget> {
    HttpTarget target;
    target.origin = 0;
    target.target = "/hello";
    return target;
  });
  OriginOptions options;
  options.ca_file = ca_file;
  options.limits.connect_timeout = Seconds(3);
  const StatusOr<int> origin =
      transport.AddOrigin(*ParseBaseUrl("https://" + host + ":" + std::to_string(port)), options);
  EXPECT_TRUE(origin.ok()) << origin.status().message();
  UpstreamCall call;
  call.api = "tls";
  call.keys = {"k"};
  std::optional<Response> answer;
  transport.Send(call, [&](const Response& r) { answer = r; });
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!answer && std::chrono::steady_clock::now() < end) {
    io.run_for(std::chrono::milliseconds(5));
    io.restart();
  }
  return answer.value_or(Response{});
}

class TlsTransportTest : public ::testing::Test {
 protected:
  std::string WriteCa(const Pem& pem) {
    const std::string path =
        (std::filesystem::path(::testing::TempDir()) /
         (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".pem"))
            .string();
    std::ofstream(path) << pem.cert;
    return path;
  }
};

TEST_F(TlsTransportTest, ATrustedCertificateForTheHostAnswers) {
  const Pem pem = MakeCertificate("IP:127.0.0.1,DNS:localhost");
  TlsServer server(pem);
  const Response r = Fetch("127.0.0.1", server.port(), WriteCa(pem));
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(r.bodies.size(), 1u);
  EXPECT_EQ(r.bodies[0]->bytes, "secure /hello");
  EXPECT_TRUE(server.handshakes_ok());
}

TEST_F(TlsTransportTest, TheSystemStoreDoesNotTrustASelfSignedCertificate) {
  const Pem pem = MakeCertificate("IP:127.0.0.1,DNS:localhost");
  TlsServer server(pem);
  const Response r = Fetch("127.0.0.1", server.port(), "");
  EXPECT_EQ(r.status, kStatusTransportError);
  ASSERT_NE(r.headers.Find("x-orchsim-transport-error"), nullptr);
  EXPECT_NE(r.headers.Find("x-orchsim-transport-error")->find("certificate verify failed"),
            std::string::npos)
      << *r.headers.Find("x-orchsim-transport-error");
  EXPECT_FALSE(server.handshakes_ok());
}

TEST_F(TlsTransportTest, ACertificateForAnotherNameFailsVerification) {
  const Pem pem = MakeCertificate("DNS:other.example");
  TlsServer server(pem);
  const Response r = Fetch("127.0.0.1", server.port(), WriteCa(pem));
  EXPECT_EQ(r.status, kStatusTransportError);
  ASSERT_NE(r.headers.Find("x-orchsim-transport-error"), nullptr);
  EXPECT_NE(r.headers.Find("x-orchsim-transport-error")->find("certificate verify failed"),
            std::string::npos)
      << *r.headers.Find("x-orchsim-transport-error");
  EXPECT_FALSE(server.handshakes_ok());
}

}  // namespace
}  // namespace orchsim::live
