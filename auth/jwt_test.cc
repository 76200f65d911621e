// JWT verification: the tokens are built and signed here with OpenSSL
// directly, independently of the code under test.
#include "auth/jwt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>

namespace ormdb::auth {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1800000000;
const std::string kSecret = "0123456789abcdef0123456789abcdef-secret";

std::string Base64Url(std::string_view bytes) {
  std::string out;
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (bytes.size() - i == 1) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::string HmacSha256(const std::string& key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

std::string Hs256Token(const std::string& payload, const std::string& secret = kSecret,
                       const std::string& header = R"({"alg":"HS256","typ":"JWT"})") {
  std::string input = Base64Url(header) + "." + Base64Url(payload);
  return input + "." + Base64Url(HmacSha256(secret, input));
}

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey GenerateRsa(int bits) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr);
  EVP_PKEY* key = nullptr;
  EXPECT_EQ(EVP_PKEY_keygen_init(ctx), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits), 1);
  EXPECT_EQ(EVP_PKEY_keygen(ctx, &key), 1);
  EVP_PKEY_CTX_free(ctx);
  return Pkey(key);
}

std::string PublicPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio, key), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

std::string Rs256Token(EVP_PKEY* key, const std::string& payload,
                       const std::string& header = R"({"alg":"RS256","typ":"JWT"})") {
  std::string input = Base64Url(header) + "." + Base64Url(payload);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  size_t len = 0;
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()),
            1);
  std::string sig(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  return input + "." + Base64Url(sig);
}

// One RSA key pair for the whole suite (generating one takes a while).
class RsaKeys : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_ = GenerateRsa(2048).release();
    other_ = GenerateRsa(2048).release();
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(key_);
    EVP_PKEY_free(other_);
  }
  static EVP_PKEY* key_;
  static EVP_PKEY* other_;
};
EVP_PKEY* RsaKeys::key_ = nullptr;
EVP_PKEY* RsaKeys::other_ = nullptr;

JwtConfig Hs256Config() {
  JwtConfig c;
  c.hs256_secret = kSecret;
  return c;
}

std::string Payload(const std::string& extra = "") {
  std::string p = R"({"sub":"42","exp":)" + std::to_string(kNow + 600);
  if (!extra.empty()) p += "," + extra;
  return p + "}";
}

void ExpectRefused(const Result<Principal>& r, std::string_view reason) {
  ASSERT_FALSE(r.ok()) << "accepted a token that should be refused (" << reason << ")";
  EXPECT_EQ(r.status().code(), ErrorCode::kUnauthenticated);
  EXPECT_THAT(r.status().message(), HasSubstr(std::string(reason)));
}

TEST(JwtTest, GoodHs256) {
  std::string token =
      Hs256Token(Payload(R"("roles":["user","editor"],"tenant":"acme","iat":1,"jti":"x")"));
  auto p = VerifyJwt(token, Hs256Config(), kNow);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->authenticated);
  EXPECT_EQ(p->id_json, "42");
  EXPECT_EQ(p->roles, (std::vector<std::string>{"user", "editor"}));
  EXPECT_EQ(p->claims_json, R"({"tenant":"acme"})");
  EXPECT_TRUE(p->HasRole("editor"));
  EXPECT_EQ(p->ToJson(), R"({"id":42,"roles":["user","editor"],"tenant":"acme"})");
}

// RFC 7515 appendix A.1: a token and key from the standard, so the HMAC
// and base64url agree with the world and not only with this test's helpers.
TEST(JwtTest, Rfc7515ExampleVerifies) {
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
      "fQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  // The JWK "k" of the example, base64url decoded (64 bytes).
  const unsigned char k[] = {3,   35,  53,  75,  43,  15,  165, 188, 131, 126, 6,   101, 119,
                             123, 166, 143, 90,  179, 40,  230, 240, 84,  201, 40,  169, 15,
                             132, 178, 210, 80,  46,  191, 211, 251, 90,  146, 210, 6,   71,
                             239, 150, 138, 180, 195, 119, 98,  61,  34,  61,  46,  33,  114,
                             5,   46,  79,  8,   192, 205, 154, 245, 103, 208, 128, 163};
  JwtConfig c;
  c.hs256_secret.assign(reinterpret_cast<const char*>(k), sizeof k);
  c.issuer = "joe";
  auto p = VerifyJwt(token, c, 1300819380 - 100);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->id_json, "null");
  EXPECT_EQ(p->claims_json, R"({"http://example.com/is_root":true})");
  ExpectRefused(VerifyJwt(token, c, 1300819380 + 100), "token expired");
}

TEST_F(RsaKeys, GoodRs256) {
  JwtConfig c;
  c.rs256_public_key_pem = PublicPem(key_);
  c.issuer = "https://id.example.com/";
  c.audience = "ormdb";
  std::string token = Rs256Token(
      key_,
      Payload(R"("iss":"https://id.example.com/","aud":["other","ormdb"],"roles":["admin"])"));
  auto p = VerifyJwt(token, c, kNow);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->id_json, "42");
  EXPECT_EQ(p->roles, std::vector<std::string>{"admin"});
  EXPECT_EQ(p->claims_json, "{}");

  // A verifier built once verifies many tokens, from several threads.
  auto verifier = JwtVerifier::Create(c);
  ASSERT_TRUE(verifier.ok()) << verifier.status().ToString();
  EXPECT_TRUE(verifier->Verify(token, kNow).ok());
}

TEST_F(RsaKeys, WrongRsaKeyIsBadSignature) {
  JwtConfig c;
  c.rs256_public_key_pem = PublicPem(other_);
  ExpectRefused(VerifyJwt(Rs256Token(key_, Payload()), c, kNow), "bad signature");
}

TEST_F(RsaKeys, AlgorithmConfusionRefused) {
  // An HS256 token "signed" with the RSA public key as its secret must not
  // pass with a config that only has the RSA key.
  JwtConfig c;
  c.rs256_public_key_pem = PublicPem(key_);
  ExpectRefused(VerifyJwt(Hs256Token(Payload(), c.rs256_public_key_pem), c, kNow),
                "alg HS256 not accepted");
  // And an RS256 token is refused where only a secret is configured.
  ExpectRefused(VerifyJwt(Rs256Token(key_, Payload()), Hs256Config(), kNow),
                "alg RS256 not accepted");
}

TEST_F(RsaKeys, BothKeysConfigured) {
  JwtConfig c = Hs256Config();
  c.rs256_public_key_pem = PublicPem(key_);
  EXPECT_TRUE(VerifyJwt(Rs256Token(key_, Payload()), c, kNow).ok());
  EXPECT_TRUE(VerifyJwt(Hs256Token(Payload()), c, kNow).ok());
}

TEST_F(RsaKeys, TamperedRs256Payload) {
  JwtConfig c;
  c.rs256_public_key_pem = PublicPem(key_);
  std::string good = Rs256Token(key_, Payload(R"("roles":["user"])"));
  std::string evil = Rs256Token(key_, Payload(R"("roles":["admin"])"));
  // The admin payload with the user token's signature.
  std::string spliced = evil.substr(0, evil.rfind('.')) + good.substr(good.rfind('.'));
  ExpectRefused(VerifyJwt(spliced, c, kNow), "bad signature");
}

TEST(JwtTest, WeakOrMissingKeysAreConfigErrors) {
  EXPECT_EQ(ValidateJwtConfig(JwtConfig{}).code(), ErrorCode::kInvalidArgument);
  JwtConfig short_secret;
  short_secret.hs256_secret = "too-short";
  EXPECT_THAT(ValidateJwtConfig(short_secret).message(), HasSubstr("at least 32"));
  JwtConfig bad_pem;
  bad_pem.rs256_public_key_pem = "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n";
  EXPECT_THAT(ValidateJwtConfig(bad_pem).message(), HasSubstr("not a PEM public key"));
  Pkey small = GenerateRsa(1024);
  JwtConfig weak;
  weak.rs256_public_key_pem = PublicPem(small.get());
  EXPECT_THAT(ValidateJwtConfig(weak).message(), HasSubstr("1024 bits"));
  // With a bad config every token is refused.
  ExpectRefused(VerifyJwt(Hs256Token(Payload()), short_secret, kNow), "not configured");
}

TEST(JwtTest, Expired) {
  JwtConfig c = Hs256Config();
  std::string token = Hs256Token(R"({"sub":"1","exp":)" + std::to_string(kNow - 31) + "}");
  ExpectRefused(VerifyJwt(token, c, kNow), "token expired");
  // Within the leeway it still passes; without leeway it does not.
  std::string recent = Hs256Token(R"({"sub":"1","exp":)" + std::to_string(kNow - 10) + "}");
  EXPECT_TRUE(VerifyJwt(recent, c, kNow).ok());
  c.leeway_seconds = 0;
  ExpectRefused(VerifyJwt(recent, c, kNow), "token expired");
  // Exactly at exp it is expired (RFC 7519 §4.1.4: "on or after").
  std::string at_exp = Hs256Token(R"({"exp":)" + std::to_string(kNow) + "}");
  ExpectRefused(VerifyJwt(at_exp, c, kNow), "token expired");
}

TEST(JwtTest, ExpIsRequiredAndNumeric) {
  ExpectRefused(VerifyJwt(Hs256Token(R"({"sub":"1"})"), Hs256Config(), kNow), "no exp");
  ExpectRefused(VerifyJwt(Hs256Token(R"({"sub":"1","exp":"tomorrow"})"), Hs256Config(), kNow),
                "exp is not a number");
  // A fractional NumericDate is a date too.
  std::string frac = Hs256Token(R"({"exp":)" + std::to_string(kNow + 100) + ".5}");
  EXPECT_TRUE(VerifyJwt(frac, Hs256Config(), kNow).ok());
}

TEST(JwtTest, NotYetValid) {
  JwtConfig c = Hs256Config();
  ExpectRefused(VerifyJwt(Hs256Token(Payload(R"("nbf":)" + std::to_string(kNow + 120))), c, kNow),
                "token not yet valid");
  EXPECT_TRUE(VerifyJwt(Hs256Token(Payload(R"("nbf":)" + std::to_string(kNow + 20))), c, kNow).ok())
      << "within the leeway";
  EXPECT_TRUE(VerifyJwt(Hs256Token(Payload(R"("nbf":)" + std::to_string(kNow - 5))), c, kNow).ok());
}

TEST(JwtTest, Audience) {
  JwtConfig c = Hs256Config();
  c.audience = "ormdb";
  EXPECT_TRUE(VerifyJwt(Hs256Token(Payload(R"("aud":"ormdb")")), c, kNow).ok());
  EXPECT_TRUE(VerifyJwt(Hs256Token(Payload(R"("aud":["x","ormdb"])")), c, kNow).ok());
  ExpectRefused(VerifyJwt(Hs256Token(Payload(R"("aud":"other")")), c, kNow), "wrong audience");
  ExpectRefused(VerifyJwt(Hs256Token(Payload(R"("aud":["x","y"])")), c, kNow), "wrong audience");
  ExpectRefused(VerifyJwt(Hs256Token(Payload()), c, kNow), "wrong audience");
  // Without a configured audience, aud is not looked at.
  EXPECT_TRUE(VerifyJwt(Hs256Token(Payload(R"("aud":"other")")), Hs256Config(), kNow).ok());
}

TEST(JwtTest, Issuer) {
  JwtConfig c = Hs256Config();
  c.issuer = "https://id.example.com/";
  EXPECT_TRUE(VerifyJwt(Hs256Token(Payload(R"("iss":"https://id.example.com/")")), c, kNow).ok());
  ExpectRefused(VerifyJwt(Hs256Token(Payload(R"("iss":"https://evil.example.com/")")), c, kNow),
                "wrong issuer");
  ExpectRefused(VerifyJwt(Hs256Token(Payload()), c, kNow), "wrong issuer");
}

TEST(JwtTest, WrongSecret) {
  ExpectRefused(VerifyJwt(Hs256Token(Payload(), kSecret + "x"), Hs256Config(), kNow),
                "bad signature");
}

TEST(JwtTest, TamperedPayload) {
  std::string token = Hs256Token(Payload(R"("roles":["user"])"));
  size_t dot1 = token.find('.');
  size_t dot2 = token.rfind('.');
  std::string forged =
      token.substr(0, dot1 + 1) + Base64Url(Payload(R"("roles":["admin"])")) + token.substr(dot2);
  ExpectRefused(VerifyJwt(forged, Hs256Config(), kNow), "bad signature");
  // A truncated or extended signature too.
  ExpectRefused(VerifyJwt(token.substr(0, token.size() - 4), Hs256Config(), kNow), "bad signature");
  ExpectRefused(VerifyJwt(token + "AAAA", Hs256Config(), kNow), "bad signature");
  // An empty signature.
  ExpectRefused(VerifyJwt(token.substr(0, dot2 + 1), Hs256Config(), kNow), "bad signature");
}

TEST(JwtTest, AlgNoneRefused) {
  std::string input =
      Base64Url(R"({"alg":"none","typ":"JWT"})") + "." + Base64Url(Payload(R"("roles":["admin"])"));
  ExpectRefused(VerifyJwt(input + ".", Hs256Config(), kNow), "alg none refused");
  std::string upper = Base64Url(R"({"alg":"NONE"})") + "." + Base64Url(Payload()) + ".";
  ExpectRefused(VerifyJwt(upper, Hs256Config(), kNow), "alg none refused");
  // Even with a valid HMAC over it.
  ExpectRefused(VerifyJwt(Hs256Token(Payload(), kSecret, R"({"alg":"none"})"), Hs256Config(), kNow),
                "alg none refused");
}

TEST(JwtTest, OtherAlgsRefused) {
  for (const char* alg : {"HS384", "HS512", "RS512", "ES256", "PS256", "hs256", ""}) {
    std::string header = std::string(R"({"alg":")") + alg + R"("})";
    ExpectRefused(VerifyJwt(Hs256Token(Payload(), kSecret, header), Hs256Config(), kNow),
                  "not accepted");
  }
  ExpectRefused(VerifyJwt(Hs256Token(Payload(), kSecret, R"({"typ":"JWT"})"), Hs256Config(), kNow),
                "no alg");
  ExpectRefused(VerifyJwt(Hs256Token(Payload(), kSecret, R"({"alg":256})"), Hs256Config(), kNow),
                "no alg");
  ExpectRefused(VerifyJwt(Hs256Token(Payload(), kSecret, R"({"alg":"HS256","crit":["exp"]})"),
                          Hs256Config(), kNow),
                "crit");
}

TEST(JwtTest, MalformedTokens) {
  const JwtConfig c = Hs256Config();
  std::string good = Hs256Token(Payload());
  ExpectRefused(VerifyJwt("", c, kNow), "malformed token");
  ExpectRefused(VerifyJwt("abc", c, kNow), "malformed token");
  ExpectRefused(VerifyJwt("a.b", c, kNow), "malformed token");
  ExpectRefused(VerifyJwt(good + ".x", c, kNow), "malformed token");
  // Characters outside base64url: standard base64, padding, spaces.
  ExpectRefused(VerifyJwt("eyJ+.eyJ.sig", c, kNow), "malformed base64url");
  std::string padded = Base64Url(R"({"alg":"HS256"})") + "==." + Base64Url(Payload()) + ".AAAA";
  ExpectRefused(VerifyJwt(padded, c, kNow), "malformed base64url");
  ExpectRefused(VerifyJwt(" " + good, c, kNow), "malformed base64url");
  // A length no base64 can have, and non-zero trailing bits (a second
  // spelling of the same bytes).
  ExpectRefused(VerifyJwt("eyJhb.e.e", c, kNow), "malformed base64url");
  std::string header = Base64Url("{}");  // "e30"
  ExpectRefused(VerifyJwt("e31." + header + ".AAAA", c, kNow), "malformed base64url");
  // Base64 that is not JSON, or not an object.
  ExpectRefused(VerifyJwt(Base64Url("not json") + "." + Base64Url(Payload()) + ".AAAA", c, kNow),
                "malformed header");
  ExpectRefused(VerifyJwt(Base64Url("[1]") + "." + Base64Url(Payload()) + ".AAAA", c, kNow),
                "malformed header");
  // A correctly signed payload that is not JSON.
  ExpectRefused(VerifyJwt(Hs256Token("{\"exp\":"), c, kNow), "malformed payload");
  ExpectRefused(VerifyJwt(Hs256Token("\"a string\""), c, kNow), "malformed payload");
  // Absurdly long tokens are refused before anything is decoded.
  ExpectRefused(VerifyJwt(std::string(20000, 'a'), c, kNow), "too long");
}

TEST(JwtTest, ErrorsNeverEchoTheToken) {
  std::string token = Hs256Token(Payload(R"("secret_marker":"zzz")"), kSecret + "x");
  auto r = VerifyJwt(token, Hs256Config(), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find(token.substr(0, 10)), std::string::npos);
  EXPECT_EQ(r.status().message().find("zzz"), std::string::npos);
}

TEST(JwtTest, RolesClaim) {
  JwtConfig c = Hs256Config();
  c.roles_claim = "https://example.com/roles";
  auto p = VerifyJwt(
      Hs256Token(Payload(R"("https://example.com/roles":["editor"],"roles":["ignored"])")), c,
      kNow);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->roles, std::vector<std::string>{"editor"});
  EXPECT_EQ(p->claims_json, "{}") << "a claim named roles is not the roles";
  // No roles claim: no roles.
  auto none = VerifyJwt(Hs256Token(Payload()), Hs256Config(), kNow);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->roles.empty());
  ExpectRefused(VerifyJwt(Hs256Token(Payload(R"("roles":"admin")")), Hs256Config(), kNow),
                "roles claim is not an array of strings");
  ExpectRefused(VerifyJwt(Hs256Token(Payload(R"("roles":["a",1])")), Hs256Config(), kNow),
                "roles claim is not an array of strings");
}

TEST(JwtTest, SubjectBecomesTheId) {
  auto id_of = [](const std::string& sub_json) {
    auto p = VerifyJwt(Hs256Token(R"({"exp":)" + std::to_string(kNow + 60) + sub_json + "}"),
                       Hs256Config(), kNow);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? p->id_json : "";
  };
  EXPECT_EQ(id_of(R"(,"sub":"42")"), "42");
  EXPECT_EQ(id_of(R"(,"sub":"-7")"), "-7");
  EXPECT_EQ(id_of(R"(,"sub":"9223372036854775807")"), "9223372036854775807");
  EXPECT_EQ(id_of(R"(,"sub":"9223372036854775808")"), R"("9223372036854775808")");
  EXPECT_EQ(id_of(R"(,"sub":"042")"), R"("042")");
  EXPECT_EQ(id_of(R"(,"sub":"auth0|abc")"), R"("auth0|abc")");
  EXPECT_EQ(id_of(R"(,"sub":"9b2f1c3e-0000-4000-8000-000000000001")"),
            R"("9b2f1c3e-0000-4000-8000-000000000001")");
  EXPECT_EQ(id_of(R"(,"sub":12)"), "12");
  EXPECT_EQ(id_of(""), "null");
  ExpectRefused(
      VerifyJwt(Hs256Token(R"({"exp":)" + std::to_string(kNow + 60) + R"(,"sub":{"a":1}})"),
                Hs256Config(), kNow),
      "sub is not a string");
}

TEST(JwtTest, ClaimsAPolicyCannotUseAreLeftOut) {
  auto p = VerifyJwt(
      Hs256Token(Payload(
          R"("tenant":"acme","level":3,"beta":true,"groups":["a","b"],"nested":{"x":1},"deep":[[1]],"id":5,"has_role":1,"nothing":null)")),
      Hs256Config(), kNow);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->claims_json,
            R"({"tenant":"acme","level":3,"beta":true,"groups":["a","b"],"nothing":null})");
  // The result reads back as a principal.
  auto again = Principal::FromJson(p->ToJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->claims_json, p->claims_json);
}

}  // namespace
}  // namespace ormdb::auth
