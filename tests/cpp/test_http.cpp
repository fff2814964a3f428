#include <gtest/gtest.h>

#include "http/request.h"
#include "http/response.h"
#include "http/server.h"

using namespace comfy::http;

static RequestParser::State feed_all(RequestParser& p, const std::string& s, Request& r) {
  p.feed(s.data(), s.size());
  return p.next(r);
}

TEST(RequestParser, KeepAliveDefaultsAndDecodedQuery) {
  RequestParser p(1024);
  Request r;
  ASSERT_EQ(feed_all(p, "GET /api/history?max%5Fitems=2&a=1&a=x+y%2Fz HTTP/1.1\r\nHost: h\r\n\r\n", r),
            RequestParser::State::Complete);
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(r.path, "/api/history");
  ASSERT_EQ(r.query.size(), 3u);
  EXPECT_EQ(r.query[0], (std::pair<std::string, std::string>{"max_items", "2"}));
  EXPECT_EQ(r.query[2], (std::pair<std::string, std::string>{"a", "x y/z"}));
  EXPECT_EQ(r.header("host").value(), "h");
}

TEST(RequestParser, PipelinedAndSplitBodies) {
  RequestParser p(1024);
  Request r;
  std::string two = "POST /prompt HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel";
  p.feed(two.data(), two.size());
  EXPECT_EQ(p.next(r), RequestParser::State::Incomplete);
  std::string rest = "loGET /queue HTTP/1.0\r\n\r\n";
  p.feed(rest.data(), rest.size());
  ASSERT_EQ(p.next(r), RequestParser::State::Complete);
  EXPECT_EQ(r.body, "hello");
  ASSERT_EQ(p.next(r), RequestParser::State::Complete);
  EXPECT_EQ(r.path, "/queue");
  EXPECT_FALSE(r.keep_alive);  // HTTP/1.0 without keep-alive
}

TEST(RequestParser, BodyLimitRefusedBeforeBuffering) {
  RequestParser p(100);
  Request r;
  // aiohttp refuses a body of the limit or more.
  EXPECT_EQ(feed_all(p, "POST /upload HTTP/1.1\r\nContent-Length: 100\r\n\r\n", r), RequestParser::State::Error);
  EXPECT_EQ(p.error_status(), 413);
  RequestParser ok(100);
  // Headers do not count towards the body limit (aiohttp refuses a body of max size or more).
  std::string big_header = "POST /x HTTP/1.1\r\nX-Pad: " + std::string(500, 'a') + "\r\nContent-Length: 99\r\n\r\n" +
                           std::string(99, 'b');
  EXPECT_EQ(feed_all(ok, big_header, r), RequestParser::State::Complete);
}

TEST(RequestParser, Chunked) {
  RequestParser p(1024);
  Request r;
  ASSERT_EQ(feed_all(p, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", r),
            RequestParser::State::Complete);
  EXPECT_EQ(r.body, "abcde");
}

TEST(Response, SerialisesCustomHeadersAndKeepAlive) {
  Response r = Response::json(comfy::Json{{"a", 1}});
  r.headers.emplace_back("X-Custom", "yes");
  std::string s = serialize(r, true, 1);
  EXPECT_NE(s.find("HTTP/1.1 200 OK\r\n"), std::string::npos);
  EXPECT_NE(s.find("X-Custom: yes\r\n"), std::string::npos);
  EXPECT_NE(s.find("Content-Length: 8\r\n"), std::string::npos);
  EXPECT_EQ(s.find("Connection: close"), std::string::npos);
  EXPECT_EQ(s.substr(s.size() - 8), "{\"a\": 1}");
  EXPECT_NE(serialize(r, false, 1).find("Connection: close\r\n"), std::string::npos);
}

TEST(Router, MirrorsUnderApiAndBindsParams) {
  Router rt;
  int hit = 0;
  rt.add("GET", "/history/{prompt_id}", [&](RouteRequest&, Responder) { ++hit; });
  std::unordered_map<std::string, std::string> params;
  bool mismatch = false;
  ASSERT_NE(rt.match("GET", "/api/history/abc", params, &mismatch), nullptr);
  EXPECT_EQ(params["prompt_id"], "abc");
  EXPECT_EQ(rt.match("POST", "/history/abc", params, &mismatch), nullptr);
  EXPECT_TRUE(mismatch);
  EXPECT_EQ(rt.match("GET", "/history/abc/def", params, nullptr), nullptr);
}

TEST(OriginCheck, LoopbackMismatchOnly) {
  Request r;
  r.headers = {{"Host", "127.0.0.1:8188"}, {"Origin", "http://evil.example"}};
  EXPECT_TRUE(origin_mismatch(r));
  r.headers = {{"Host", "127.0.0.1:8188"}, {"Origin", "http://127.0.0.1:8188"}};
  EXPECT_FALSE(origin_mismatch(r));
  r.headers = {{"Host", "192.0.2.7:8188"}, {"Origin", "http://evil.example"}};
  EXPECT_FALSE(origin_mismatch(r));  // non-loopback hosts are never checked
  r.headers = {{"Host", "127.0.0.1:8188"}};
  EXPECT_FALSE(origin_mismatch(r));
}
