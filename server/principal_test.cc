// Principals over the wire (DESIGN.md §10, docs/PROTOCOL.md "Principals"):
// a key that names its principal, a JWT, impersonation with actAs, parked
// continuations bound to the principal, and the audit log the server
// writes. The server runs in this process on a schema with a tenant rule.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <ctime>

#include "audit/audit_log.h"
#include "server/server_test_util.h"

namespace ormdb::server::test {
namespace {

constexpr const char* kTenantSchema = R"(
entity Project {
  id: id
  name: string
  tenant: string @index
  @@deny(all, tenant != auth.tenant)
  @@allow(all, true)
}
)";

const std::string kSecret = "0123456789abcdef0123456789abcdef-secret";
constexpr const char* kAcmeKey = "key-acme-0123456789";
constexpr const char* kBackendKey = "key-backend-0123456789";
constexpr const char* kReaderKey = "key-reader-0123456789";
constexpr const char* kAcme = R"({"id":1,"roles":["user"],"tenant":"acme"})";
constexpr const char* kGlobex = R"({"id":2,"roles":["user"],"tenant":"globex"})";

std::string Base64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      out += kAlphabet[(acc >> (bits - 6)) & 63];
      bits -= 6;
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::string Hs256Token(const std::string& payload,
                       const std::string& header = R"({"alg":"HS256","typ":"JWT"})") {
  std::string input = Base64Url(header) + "." + Base64Url(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + Base64Url(std::string(reinterpret_cast<char*>(mac), len));
}

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

// A token for tenant globex (sub 2) expiring in an hour, unless changed.
std::string GlobexToken(int64_t exp_offset = 3600, const std::string& aud = "ormdb") {
  return Hs256Token(R"({"sub":"2","roles":["user"],"tenant":"globex","aud":")" + aud +
                    R"(","exp":)" + std::to_string(Now() + exp_offset) + "}");
}

class PrincipalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = db::Engine::Open(dir_.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->ApplySchema(kTenantSchema).ok());
    std::string ops;
    for (int i = 0; i < 40; ++i) {
      for (const char* tenant : {"acme", "globex"}) {
        ops += std::string(ops.empty() ? "" : ",") +
               R"({"op":"insert","entity":"Project","values":{"name":")" + tenant + "-" +
               std::to_string(i) + "-" + std::string(200, 'x') + R"(","tenant":")" + tenant +
               "\"}}";
      }
    }
    auto m = (*db)->Mutate(R"({"ops":[)" + ops + "]}");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ServerOptions o;
    o.listen = "tcp://127.0.0.1:0";
    o.keys.emplace_back(kAcmeKey, "acme-app", std::vector<std::string>{"read", "write"},
                        *Principal::FromJson(kAcme));
    o.keys.emplace_back(kBackendKey, "backend",
                        std::vector<std::string>{"read", "write", "impersonate"});
    o.keys.emplace_back(kReaderKey, "reader", std::vector<std::string>{"read"});
    o.jwt.hs256_secret = kSecret;
    o.jwt.audience = "ormdb";
    o.audit = true;
    o.audit_dir = dir_.path() + "/audit";
    o.max_frame_bytes = 4096;
    auto s = Server::Start(std::move(*db), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }

  std::unique_ptr<Database> Connect(std::string key, std::string token = "") {
    ConnectOptions c = Quick(std::move(key));
    c.token = std::move(token);
    auto r = Database::Connect(server_->url(), c);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : nullptr;
  }

  // The tenants of the projects `db` reads.
  static std::set<std::string> Tenants(Database& db, size_t* rows = nullptr) {
    std::set<std::string> out;
    auto r = db.Fetch("Project { tenant }");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return out;
    auto j = ParseJson((*r)->ToJson());
    EXPECT_TRUE(j.ok());
    const Json& data = *j->Find("data");
    if (rows) *rows = data.size();
    for (const Json& row : data.as_array()) out.insert(row.Find("tenant")->as_string());
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Server> server_;
};

TEST_F(PrincipalTest, KeyActingForAPrincipalSeesItsTenantOnly) {
  auto db = Connect(kAcmeKey);
  ASSERT_NE(db, nullptr);
  size_t rows = 0;
  EXPECT_EQ(Tenants(*db, &rows), std::set<std::string>{"acme"});
  EXPECT_EQ(rows, 40u);  // a reply larger than a frame: pulled in chunks
  // Writes are checked too: another tenant's row is refused.
  auto m = db->Mutate(R"({"ops":[{"op":"insert","entity":"Project",
                        "values":{"name":"n","tenant":"globex"}}]})");
  EXPECT_EQ(m.status().code(), ErrorCode::kPermissionDenied) << m.status().ToString();
  // And what only an administrator may do.
  EXPECT_EQ(db->Export("Project", [](std::string_view) { return Status::Ok(); }).code(),
            ErrorCode::kPermissionDenied);
}

TEST_F(PrincipalTest, OwnerKeySeesEverything) {
  auto db = Connect(kBackendKey);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Tenants(*db), (std::set<std::string>{"acme", "globex"}));
}

TEST_F(PrincipalTest, TokenNamesThePrincipal) {
  // A valid token needs no key.
  auto db = Connect("", GlobexToken());
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Tenants(*db), std::set<std::string>{"globex"});
  // With a key that has no principal of its own.
  auto with_key = Connect(kReaderKey, GlobexToken());
  ASSERT_NE(with_key, nullptr);
  EXPECT_EQ(Tenants(*with_key), std::set<std::string>{"globex"});
  // A key that names its principal takes no token (the hello is a request
  // like any other).
  ConnectOptions c = Quick(kAcmeKey);
  c.token = GlobexToken();
  EXPECT_EQ(Database::Connect(server_->url(), c).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(PrincipalTest, BadTokensAreUnauthenticated) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"expired", GlobexToken(-3600)},
      {"wrong audience", GlobexToken(3600, "someone-else")},
      {"alg none", Base64Url(R"({"alg":"none","typ":"JWT"})") + "." +
                       Base64Url(R"({"sub":"2","tenant":"globex","aud":"ormdb","exp":)" +
                                 std::to_string(Now() + 3600) + "}") +
                       "."},
      {"bad signature", GlobexToken().substr(0, GlobexToken().size() - 4) + "AAAA"},
      {"garbage", "not-a-token"},
  };
  for (const auto& [what, token] : bad) {
    ConnectOptions c = Quick();
    c.token = token;
    // The hello is authenticated like any request.
    auto db = Database::Connect(server_->url(), c);
    EXPECT_EQ(db.status().code(), ErrorCode::kUnauthenticated)
        << what << ": " << db.status().ToString();
    // With a valid key too: a bad token is never ignored.
    c.key = kReaderKey;
    db = Database::Connect(server_->url(), c);
    EXPECT_EQ(db.status().code(), ErrorCode::kUnauthenticated)
        << what << ": " << db.status().ToString();
  }
}

TEST_F(PrincipalTest, ImpersonationNeedsTheRole) {
  auto reader = Connect(kReaderKey);
  ASSERT_NE(reader, nullptr);
  auto as_acme = reader->As(*Principal::FromJson(kAcme));
  ASSERT_TRUE(as_acme.ok()) << as_acme.status().ToString();
  EXPECT_EQ((*as_acme)->Fetch("Project { tenant }").status().code(), ErrorCode::kPermissionDenied);

  auto backend = Connect(kBackendKey);
  ASSERT_NE(backend, nullptr);
  auto acme = backend->As(*Principal::FromJson(kAcme));
  auto globex = backend->As(*Principal::FromJson(kGlobex));
  ASSERT_TRUE(acme.ok() && globex.ok());
  EXPECT_EQ(Tenants(**acme), std::set<std::string>{"acme"});
  EXPECT_EQ(Tenants(**globex), std::set<std::string>{"globex"});
  EXPECT_EQ(Tenants(*backend), (std::set<std::string>{"acme", "globex"}));
  // Writes act for the principal too.
  auto m = (*acme)->Mutate(R"({"ops":[{"op":"insert","entity":"Project",
                             "values":{"name":"new","tenant":"globex"}}]})");
  EXPECT_EQ(m.status().code(), ErrorCode::kPermissionDenied) << m.status().ToString();
  m = (*acme)->Mutate(R"({"ops":[{"op":"insert","entity":"Project",
                        "values":{"name":"new","tenant":"acme"}}]})");
  EXPECT_TRUE(m.ok()) << m.status().ToString();
}

// A continuation is bound to the principal: another principal of the same
// key (and connection) cannot pull it.
TEST_F(PrincipalTest, ContinuationsAreBoundToThePrincipal) {
  RawClient c(server_->url());
  auto fetch = [&](const char* as) {
    capnp::MallocMessageBuilder b;
    auto req = InitRequest(b, 7, 1, kBackendKey);
    req.setActAs(as);
    auto f = req.initFetch();
    f.setQuery("Project { name, tenant }");
    f.setParams("{}");
    f.initOptions();
    return FrameOf(b);
  };
  auto more = [&](uint64_t handle, uint64_t offset, const char* as, uint64_t id) {
    capnp::MallocMessageBuilder b;
    auto req = InitRequest(b, 7, id, kBackendKey);
    if (as != nullptr) req.setActAs(as);
    auto m = req.initMore();
    m.setHandle(handle);
    m.setOffset(offset);
    return FrameOf(b);
  };
  auto first = c.Call(fetch(kAcme));
  ASSERT_TRUE(first);
  Decoded d = Decode(*first);
  ASSERT_TRUE(d.valid && d.which == wire::Reply::CHUNK) << Describe(d);
  const uint64_t offset = d.data.size();
  ExpectError(c, more(d.handle, offset, kGlobex, 2), ErrorCode::kNotFound, "",
              "more as another principal");
  ExpectError(c, more(d.handle, offset, nullptr, 3), ErrorCode::kNotFound, "",
              "more as the key's owner");
  auto mine = c.Call(more(d.handle, offset, kAcme, 4));
  ASSERT_TRUE(mine);
  Decoded m = Decode(*mine);
  EXPECT_TRUE(m.valid && m.which == wire::Reply::CHUNK) << Describe(m);
}

// Resent writes are recognized per principal: the same request id of two
// principals of one key are two writes.
TEST_F(PrincipalTest, RequestIdsAreBoundToThePrincipal) {
  RawClient c(server_->url());
  auto insert = [&](const char* as, const char* tenant) {
    capnp::MallocMessageBuilder b;
    auto req = InitRequest(b, 9, 42, kBackendKey);
    req.setActAs(as);
    std::string batch =
        R"({"ops":[{"op":"insert","entity":"Project","values":{"name":"r","tenant":")" +
        std::string(tenant) + "\"}}]}";
    req.setMutate(batch);
    return FrameOf(b);
  };
  auto a = c.Call(insert(kAcme, "acme"));
  auto g = c.Call(insert(kGlobex, "globex"));
  ASSERT_TRUE(a && g);
  Decoded da = Decode(*a), dg = Decode(*g);
  ASSERT_TRUE(da.valid && !da.is_error) << Describe(da);
  ASSERT_TRUE(dg.valid && !dg.is_error) << Describe(dg);
  EXPECT_NE(da.version, dg.version);  // globex's was applied, not answered from acme's
  auto again = c.Call(insert(kAcme, "acme"));
  ASSERT_TRUE(again);
  EXPECT_EQ(Decode(*again).version, da.version);  // a resend: the first outcome
}

TEST_F(PrincipalTest, RequestsAreAudited) {
  auto backend = Connect(kBackendKey);
  ASSERT_NE(backend, nullptr);
  auto acme = backend->As(*Principal::FromJson(kAcme));
  ASSERT_TRUE(acme.ok());
  ASSERT_TRUE((*acme)->Fetch("Project(where: name == $n) { name }", R"({"n": "x"})").ok());
  ASSERT_TRUE((*acme)
                  ->Mutate(R"({"ops":[{"op":"insert","entity":"Project",
                                "values":{"name":"audited","tenant":"acme"}}]})")
                  .ok());
  auto reader = Connect(kReaderKey);
  ASSERT_NE(reader, nullptr);
  EXPECT_FALSE(reader->Mutate(R"({"ops":[]})").ok());  // no write role: denied
  server_->Stop();

  std::vector<Json> lines;
  ASSERT_TRUE(audit::Tail(dir_.path() + "/audit", 100, [&](std::string_view line) {
                auto j = ParseJson(line);
                ASSERT_TRUE(j.ok()) << line;
                lines.push_back(std::move(*j));
              }).ok());
  auto verified = audit::VerifyAuditLog(dir_.path() + "/audit");
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok) << verified->problem;
  auto find = [&](std::string_view operation) -> const Json* {
    for (const Json& l : lines) {
      if (l.Find("operation")->as_string() == operation) return &l;
    }
    return nullptr;
  };
  const Json* fetch = find("fetch");
  ASSERT_NE(fetch, nullptr);
  EXPECT_EQ(ToJson(*fetch->Find("principal")), kAcme);
  // The backend's key named acme's principal: the line names the key too.
  ASSERT_NE(fetch->Find("impersonator"), nullptr);
  EXPECT_EQ(ToJson(*fetch->Find("impersonator")), R"({"key":"backend"})");
  EXPECT_EQ(ToJson(*fetch->Find("entities")), R"(["Project"])");
  EXPECT_EQ(ToJson(*fetch->Find("params")), R"(["n"])");
  EXPECT_EQ(fetch->Find("outcome")->as_string(), "ok");
  EXPECT_TRUE(fetch->Find("shape")->is_string());
  const Json* mutate = nullptr;
  const Json* denied = nullptr;
  for (const Json& l : lines) {
    if (l.Find("operation")->as_string() != "mutate") continue;
    (l.Find("outcome")->as_string() == "ok" ? mutate : denied) = &l;
  }
  ASSERT_NE(mutate, nullptr);
  EXPECT_EQ(ToJson(*mutate->Find("principal")), kAcme);
  ASSERT_NE(mutate->Find("impersonator"), nullptr);
  EXPECT_EQ(ToJson(*mutate->Find("impersonator")), R"({"key":"backend"})");
  EXPECT_EQ(ToJson(*mutate->Find("entities")), R"(["Project"])");
  EXPECT_EQ(mutate->Find("rows")->as_int(), 1);
  EXPECT_GT(mutate->Find("version")->as_int(), 0);
  ASSERT_NE(denied, nullptr);
  EXPECT_EQ(denied->Find("outcome")->as_string(), "denied");
  EXPECT_EQ(ToJson(*denied->Find("principal")), R"({"owner":true,"key":"reader"})");
  EXPECT_EQ(denied->Find("impersonator"), nullptr);  // it acted for itself
}

// A key that acts for a principal of its own names no impersonator; a
// token's principal with the role impersonate that names another is named
// by that token's principal.
TEST_F(PrincipalTest, ImpersonationByATokenIsAuditedWithTheTokensPrincipal) {
  const std::string token =
      Hs256Token(R"({"sub":"9","roles":["impersonate"],"aud":"ormdb","exp":)" +
                 std::to_string(Now() + 3600) + "}");
  auto by_token = Connect("", token);
  ASSERT_NE(by_token, nullptr);
  auto acme = by_token->As(*Principal::FromJson(kAcme));
  ASSERT_TRUE(acme.ok());
  ASSERT_TRUE((*acme)->Fetch("Project { name }").ok());
  auto own = Connect(kAcmeKey);
  ASSERT_NE(own, nullptr);
  ASSERT_TRUE(own->Fetch("Project { tenant }").ok());
  server_->Stop();

  std::vector<Json> fetches;
  ASSERT_TRUE(audit::Tail(dir_.path() + "/audit", 100, [&](std::string_view line) {
                auto j = ParseJson(line);
                ASSERT_TRUE(j.ok()) << line;
                if (j->Find("operation")->as_string() == "fetch") fetches.push_back(std::move(*j));
              }).ok());
  ASSERT_EQ(fetches.size(), 2u);
  EXPECT_EQ(ToJson(*fetches[0].Find("principal")), kAcme);
  ASSERT_NE(fetches[0].Find("impersonator"), nullptr);
  EXPECT_EQ(ToJson(*fetches[0].Find("impersonator")),
            R"({"token":{"id":9,"roles":["impersonate"]}})");
  EXPECT_EQ(ToJson(*fetches[1].Find("principal")), kAcme);
  EXPECT_EQ(fetches[1].Find("impersonator"), nullptr);
  auto verified = audit::VerifyAuditLog(dir_.path() + "/audit");
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok) << verified->problem;
}

}  // namespace
}  // namespace ormdb::server::test
