#include "live/upstream_response_parser.h"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <string>

namespace orchsim::live {
namespace {

namespace http = boost::beast::http;

// Feeds `wire` to `parser` in pieces of `step` bytes (as reads deliver
// them); returns the first error, or success once the message is done.
boost::beast::error_code Feed(UpstreamResponseParser& parser, const std::string& wire,
                              size_t step) {
  parser.eager(true);
  std::string pending;
  size_t at = 0;
  boost::beast::error_code ec;
  while (!parser.is_done()) {
    const bool all_given = at >= wire.size();
    if (!all_given) {
      pending.append(wire, at, step);
      at += step;
    }
    const size_t used = pending.empty() ? 0 : parser.put(boost::asio::buffer(pending), ec);
    if (ec && ec != http::error::need_more) return ec;
    pending.erase(0, used);
    // Everything given and nothing more taken: the message needs more bytes.
    if (all_given && used == 0) return http::error::need_more;
    ec = {};
  }
  return ec;
}

TEST(UpstreamResponseParserTest, ReadsStatusHeadersTypeAndBodyInAnyPieces) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nServer: odds\r\nContent-Type: application/json\r\n"
      "x-requests-remaining: 498\r\nContent-Length: 11\r\n\r\n{\"odds\":[]}";
  for (size_t step : {1, 7, 1000}) {
    SCOPED_TRACE(step);
    UpstreamResponseParser parser;
    ASSERT_FALSE(Feed(parser, wire, step));
    EXPECT_EQ(parser.status(), 200);
    EXPECT_EQ(parser.content_type(), "application/json");
    EXPECT_EQ(parser.body(), "{\"odds\":[]}");
    EXPECT_TRUE(parser.keep_alive());
    ASSERT_NE(parser.headers().Find("X-Requests-Remaining"), nullptr);
    EXPECT_EQ(*parser.headers().Find("X-Requests-Remaining"), "498");
    ASSERT_EQ(parser.headers().entries().size(), 4u);
    EXPECT_EQ(parser.headers().entries()[0].first, "Server");  // names as sent
  }
}

TEST(UpstreamResponseParserTest, AFieldSentTwiceIsJoined) {
  const std::string wire =
      "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nWarning: a\r\nwarning: b\r\n"
      "Content-Type: text/plain\r\nContent-Type: text/html\r\nConnection: close\r\n"
      "Content-Length: 0\r\n\r\n";
  UpstreamResponseParser parser;
  ASSERT_FALSE(Feed(parser, wire, 5));
  EXPECT_EQ(parser.status(), 429);
  EXPECT_EQ(*parser.headers().Find("warning"), "a, b");
  EXPECT_EQ(parser.content_type(), "text/plain");  // the first, as Beast's fields[] gives
  EXPECT_EQ(parser.body(), "");
  EXPECT_FALSE(parser.keep_alive());
}

TEST(UpstreamResponseParserTest, ChunkedAndUntilCloseBodies) {
  UpstreamResponseParser chunked;
  ASSERT_FALSE(Feed(chunked,
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "4\r\nabcd\r\n3;ext=1\r\nefg\r\n0\r\n\r\n",
                    3));
  EXPECT_EQ(chunked.body(), "abcdefg");

  UpstreamResponseParser to_eof;
  boost::beast::error_code ec = Feed(to_eof, "HTTP/1.1 200 OK\r\n\r\nuntil close", 4);
  EXPECT_EQ(ec, http::error::need_more);  // the body ends when the peer closes
  to_eof.put_eof(ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(to_eof.body(), "until close");
}

TEST(UpstreamResponseParserTest, LimitsAndGarbageAreErrors) {
  UpstreamResponseParser big_body;
  big_body.body_limit(4);
  EXPECT_EQ(
      Feed(big_body, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n",
           1000),
      http::error::body_limit);

  UpstreamResponseParser big_head;
  big_head.header_limit(32);
  EXPECT_EQ(
      Feed(big_head, "HTTP/1.1 200 OK\r\nX-Long: " + std::string(100, 'a') + "\r\n\r\n", 1000),
      http::error::header_limit);

  UpstreamResponseParser garbage;
  EXPECT_TRUE(Feed(garbage, "BLAH\r\n\r\n", 1000));

  UpstreamResponseParser request_line;
  EXPECT_TRUE(Feed(request_line, "GET / HTTP/1.1\r\n\r\n", 1000));
}

}  // namespace
}  // namespace orchsim::live
