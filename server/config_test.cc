// The config of principals: keys with a principal object, the "impersonate"
// role, the jwt section and audit_dir (docs/PROTOCOL.md "Server
// configuration").
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "server/server.h"

namespace ormdb::server {
namespace {

namespace fs = std::filesystem;

class ConfigFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ormdb-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  static std::string RsaPublicPem(int bits) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr);
    EVP_PKEY* key = nullptr;
    EVP_PKEY_keygen_init(ctx);
    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits);
    EVP_PKEY_keygen(ctx, &key);
    EVP_PKEY_CTX_free(ctx);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(len));
    BIO_free(bio);
    EVP_PKEY_free(key);
    return pem;
  }

  Status Parse(const std::string& json) {
    server_ = ServerOptions();
    database_ = OpenOptions();
    return ParseServerConfig(json, &server_, &database_);
  }

  std::string dir_;
  ServerOptions server_;
  OpenOptions database_;
};

TEST(ServerConfigPrincipalTest, KeysWithPrincipalObjects) {
  ServerOptions s;
  OpenOptions d;
  Status st = ParseServerConfig(R"({"keys": [
      {"key": "0123456789abcdef-app", "roles": ["read", "write"],
       "principal": {"id": 7, "roles": ["user"], "tenant": "acme"}},
      {"key": "0123456789abcdef-uuid",
       "principal": {"id": "9b2f1c3e-0000-4000-8000-000000000001", "roles": []}},
      {"key": "0123456789abcdef-role", "principal": {"roles": ["auditor"]}},
      {"key": "0123456789abcdef-name", "principal": "ann"},
      {"key": "0123456789abcdef-backend", "roles": ["read", "write", "impersonate"]}
    ]})",
                                &s, &d);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(s.keys.size(), 5u);

  const ApiKey& app = s.keys[0];
  EXPECT_EQ(app.principal, "7");
  EXPECT_EQ(app.roles, (std::vector<std::string>{"read", "write"}));
  ASSERT_TRUE(app.acts_as.has_value());
  EXPECT_TRUE(app.acts_as->authenticated);
  EXPECT_EQ(app.acts_as->id_json, "7");
  EXPECT_EQ(app.acts_as->roles, std::vector<std::string>{"user"});
  EXPECT_EQ(app.acts_as->claims_json, R"({"tenant":"acme"})");

  EXPECT_EQ(s.keys[1].principal, "9b2f1c3e-0000-4000-8000-000000000001");
  EXPECT_EQ(s.keys[1].acts_as->id_json, R"("9b2f1c3e-0000-4000-8000-000000000001")");
  EXPECT_EQ(s.keys[1].roles, std::vector<std::string>{"read"}) << "the default access role";

  // A principal without an id is named after its key.
  EXPECT_EQ(s.keys[2].principal, "key3");
  EXPECT_EQ(s.keys[2].acts_as->id_json, "null");
  EXPECT_TRUE(s.keys[2].acts_as->HasRole("auditor"));

  // The string form: a name, no principal object.
  EXPECT_EQ(s.keys[3].principal, "ann");
  EXPECT_FALSE(s.keys[3].acts_as.has_value());

  EXPECT_EQ(s.keys[4].principal, "key5");
  EXPECT_EQ(s.keys[4].roles, (std::vector<std::string>{"read", "write", "impersonate"}));
  EXPECT_FALSE(s.keys[4].acts_as.has_value());
}

TEST(ServerConfigPrincipalTest, BadPrincipalsNameTheProblem) {
  struct Case {
    const char* json;
    const char* names;
  };
  const Case cases[] = {
      {R"({"keys": [{"key": "0123456789abcdef", "principal": 5}]})", "keys[].principal"},
      {R"({"keys": [{"key": "0123456789abcdef", "principal": ["a"]}]})", "keys[].principal"},
      {R"({"keys": [{"key": "0123456789abcdef", "principal": {"id": 1.5}}]})", "\"id\""},
      {R"({"keys": [{"key": "0123456789abcdef", "principal": {"roles": "user"}}]})", "\"roles\""},
      {R"({"keys": [{"key": "0123456789abcdef", "principal": {"org": {"a": 1}}}]})",
       "claim \"org\""},
      {R"({"keys": [{"key": "0123456789abcdef", "principal": {"has_role": 1}}]})", "has_role"},
      {R"({"keys": [{"key": "0123456789abcdef", "roles": ["impersonator"]}]})", "impersonate"},
      {R"({"audit_dir": 5})", "audit_dir"},
      {R"({"audit_dir": ""})", "audit_dir"},
      {R"({"jwt": "secret"})", "jwt"},
      {R"({"jwt": {}})", "jwt"},
      {R"({"jwt": {"issuer": "x"}})", "needs a key"},
      {R"({"jwt": {"hs256_secret": "short"}})", "jwt.hs256_secret"},
      {R"({"jwt": {"hs256_secret": 12345}})", "jwt.hs256_secret"},
      {R"({"jwt": {"hs256_secret": "0123456789abcdef0123456789abcdef", "alg": "HS256"}})",
       "jwt.alg"},
      {R"({"jwt": {"hs256_secret": "0123456789abcdef0123456789abcdef", "roles_claim": ""}})",
       "jwt.roles_claim"},
      {R"({"jwt": {"hs256_secret": "0123456789abcdef0123456789abcdef", "audience": ["a"]}})",
       "jwt.audience"},
      {R"({"jwt": {"hs256_secret": "0123456789abcdef0123456789abcdef", "leeway_seconds": -1}})",
       "jwt.leeway_seconds"},
      {R"({"jwt": {"hs256_secret_file": "/nonexistent/ormdb-secret"}})",
       "/nonexistent/ormdb-secret"},
      {R"({"jwt": {"rs256_public_key_file": "/nonexistent/key.pem"}})",
       "jwt.rs256_public_key_file"},
  };
  for (const Case& k : cases) {
    ServerOptions s;
    OpenOptions d;
    Status st = ParseServerConfig(k.json, &s, &d);
    ASSERT_FALSE(st.ok()) << k.json;
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << k.json << ": " << st.ToString();
    EXPECT_NE(st.message().find(k.names), std::string::npos)
        << k.json << ": '" << st.message() << "' does not name " << k.names;
  }
}

TEST_F(ConfigFilesTest, JwtWithInlineSecret) {
  Status st = Parse(R"({"jwt": {"hs256_secret": "0123456789abcdef0123456789abcdef",
      "issuer": "https://id.example.com/", "audience": "ormdb",
      "roles_claim": "https://example.com/roles", "leeway_seconds": 5},
      "audit_dir": "/var/lib/ormdb/audit"})");
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(server_.jwt.enabled());
  EXPECT_EQ(server_.jwt.hs256_secret, "0123456789abcdef0123456789abcdef");
  EXPECT_TRUE(server_.jwt.rs256_public_key_pem.empty());
  EXPECT_EQ(server_.jwt.issuer, "https://id.example.com/");
  EXPECT_EQ(server_.jwt.audience, "ormdb");
  EXPECT_EQ(server_.jwt.roles_claim, "https://example.com/roles");
  EXPECT_EQ(server_.jwt.leeway_seconds, 5);
  EXPECT_EQ(server_.audit_dir, "/var/lib/ormdb/audit");
  EXPECT_TRUE(auth::JwtVerifier::Create(server_.jwt).ok());

  // Without the section: no tokens taken, no audit_dir.
  ASSERT_TRUE(Parse("{}").ok());
  EXPECT_FALSE(server_.jwt.enabled());
  EXPECT_TRUE(server_.audit_dir.empty());
}

TEST_F(ConfigFilesTest, JwtSecretFromAFile) {
  std::string path = Write("secret", "0123456789abcdef0123456789abcdef-from-file\n");
  ASSERT_TRUE(Parse(R"({"jwt": {"hs256_secret_file": ")" + path + R"("}})").ok());
  EXPECT_EQ(server_.jwt.hs256_secret, "0123456789abcdef0123456789abcdef-from-file")
      << "the trailing newline is not part of the secret";
  std::string short_path = Write("short", "too short\n");
  Status st = Parse(R"({"jwt": {"hs256_secret_file": ")" + short_path + R"("}})");
  EXPECT_NE(st.message().find("at least 32 bytes"), std::string::npos) << st.ToString();
  // Both forms at once are refused.
  st = Parse(R"({"jwt": {"hs256_secret": "0123456789abcdef0123456789abcdef",
                         "hs256_secret_file": ")" +
             path + R"("}})");
  EXPECT_NE(st.message().find("exclude each other"), std::string::npos) << st.ToString();
}

TEST_F(ConfigFilesTest, JwtRsaKeyFromAFile) {
  std::string pem = RsaPublicPem(2048);
  std::string path = Write("key.pem", pem);
  Status st = Parse(R"({"jwt": {"rs256_public_key_file": ")" + path + R"(", "audience": "a"}})");
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(server_.jwt.rs256_public_key_pem, pem);
  EXPECT_TRUE(server_.jwt.hs256_secret.empty());

  std::string weak = Write("weak.pem", RsaPublicPem(1024));
  st = Parse(R"({"jwt": {"rs256_public_key_file": ")" + weak + R"("}})");
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("1024 bits"), std::string::npos) << st.ToString();

  std::string junk = Write("junk.pem", "not a key\n");
  st = Parse(R"({"jwt": {"rs256_public_key_file": ")" + junk + R"("}})");
  EXPECT_NE(st.message().find("jwt.rs256_public_key_file"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("not a PEM public key"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace ormdb::server
