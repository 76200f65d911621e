#include "protocol/http.h"

#include <gtest/gtest.h>

namespace ormdb::protocol {
namespace {

TEST(HttpTest, RoutesGetAndPostWithQueryAndAuthorization) {
  std::vector<HttpRoute> routes;
  routes.push_back(
      {"GET", "/hello", false, [](const HttpRequest& r) {
         return HttpResponse{200, "text/plain", "hi " + r.query.at("name") + " " + r.authorization};
       }});
  routes.push_back({"POST", "/echo", false, [](const HttpRequest& r) {
                      return HttpResponse{201, "application/json", r.body};
                    }});
  routes.push_back({"GET", "/files", true, [](const HttpRequest& r) {
                      return HttpResponse{200, "text/plain", r.path};
                    }});
  auto server = HttpServer::Start("http://127.0.0.1:0", std::move(routes));
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string base = (*server)->url();
  ASSERT_NE(base, "http://127.0.0.1:0");

  auto hello = HttpCall("GET", base + "/hello?name=a%20b", {}, "Bearer k");
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  EXPECT_EQ(hello->status, 200);
  EXPECT_EQ(hello->body, "hi a b Bearer k");

  auto echo = HttpCall("POST", base + "/echo", R"({"x":1})");
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->status, 201);
  EXPECT_EQ(echo->body, R"({"x":1})");
  EXPECT_EQ(echo->content_type, "application/json");

  auto sub = HttpCall("GET", base + "/files/a/b.js");
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->body, "/files/a/b.js");

  auto missing = HttpCall("GET", base + "/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);

  (*server)->Stop();
  EXPECT_FALSE(HttpCall("GET", base + "/hello?name=x", {}, {}, 2000).ok());
}

TEST(HttpTest, RefusesOtherSchemes) {
  auto server = HttpServer::Start("tcp://127.0.0.1:0", {});
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), ErrorCode::kInvalidArgument);
}

TEST(HttpTest, PercentDecode) { EXPECT_EQ(PercentDecode("a%2Fb+c%zz"), "a/b c%zz"); }

}  // namespace
}  // namespace ormdb::protocol
