#include "auth/jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <vector>

#include "common/json.h"

namespace ormdb::auth {

struct RsaPublicKey {
  EVP_PKEY* pkey = nullptr;
  RsaPublicKey() = default;
  RsaPublicKey(const RsaPublicKey&) = delete;
  RsaPublicKey& operator=(const RsaPublicKey&) = delete;
  ~RsaPublicKey() { EVP_PKEY_free(pkey); }
};

namespace {

// Tokens are headers of a request: anything longer is not one we issued.
constexpr size_t kMaxTokenBytes = 16 << 10;
constexpr size_t kMinSecretBytes = 32;
constexpr int kMinRsaBits = 2048;

Status Refused(std::string_view reason) {
  return Status(ErrorCode::kUnauthenticated, "JWT: " + std::string(reason));
}

// -1 for a byte outside the base64url alphabet.
int Base64UrlValue(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Strict base64url without padding (RFC 7515 §2): the alphabet only, no
// '=', and unused trailing bits zero, so every byte string has exactly one
// encoding. nullopt for anything else.
std::optional<std::string> DecodeBase64Url(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    int v = Base64UrlValue(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

Result<Json> ParseSegment(std::string_view text, std::string_view what) {
  JsonLimits limits;
  limits.max_depth = 16;
  Result<Json> v = ParseJson(text, limits);
  if (!v.ok() || !v->is_object()) return Refused("malformed " + std::string(what));
  return v;
}

// A NumericDate (RFC 7519 §2): seconds, maybe with a fraction.
std::optional<double> NumericDate(const Json& v) {
  if (!v.is_number()) return std::nullopt;
  double d = v.as_double();
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

// "42" and "-7" read as int64; "042", "4x", "" and out-of-range do not.
std::optional<int64_t> IntegerSubject(const std::string& sub) {
  size_t digits_at = !sub.empty() && sub[0] == '-' ? 1 : 0;
  if (sub.size() == digits_at || sub.size() - digits_at > 19) return std::nullopt;
  if (sub[digits_at] == '0' && sub.size() > digits_at + 1) return std::nullopt;
  for (size_t i = digits_at; i < sub.size(); ++i) {
    if (sub[i] < '0' || sub[i] > '9') return std::nullopt;
  }
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(sub.c_str(), &end, 10);
  if (errno == ERANGE) return std::nullopt;
  if (sub == "-0") return std::nullopt;
  return static_cast<int64_t>(v);
}

bool IsRegisteredClaim(std::string_view name) {
  return name == "iss" || name == "sub" || name == "aud" || name == "exp" || name == "nbf" ||
         name == "iat" || name == "jti";
}

// What a policy can compare: a scalar or a list of scalars.
bool UsableClaim(const Json& v) {
  auto scalar = [](const Json& e) { return !e.is_array() && !e.is_object(); };
  if (scalar(v)) return true;
  if (!v.is_array()) return false;
  for (const Json& e : v.as_array()) {
    if (!scalar(e)) return false;
  }
  return true;
}

bool VerifyHs256(const std::string& secret, std::string_view signing_input,
                 const std::string& signature) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
           &mac_len) == nullptr) {
    return false;
  }
  if (signature.size() != mac_len) return false;
  return CRYPTO_memcmp(mac, signature.data(), mac_len) == 0;
}

bool VerifyRs256(EVP_PKEY* key, std::string_view signing_input, const std::string& signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(),
                             reinterpret_cast<const unsigned char*>(signing_input.data()),
                             signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

Result<std::shared_ptr<const RsaPublicKey>> ParseRsaKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return Internal("out of memory");
  auto key = std::make_shared<RsaPublicKey>();
  key->pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key->pkey == nullptr) {
    return InvalidArgument("rs256 public key is not a PEM public key (-----BEGIN PUBLIC KEY-----)");
  }
  if (EVP_PKEY_base_id(key->pkey) != EVP_PKEY_RSA) {
    return InvalidArgument("rs256 public key is not an RSA key");
  }
  if (EVP_PKEY_bits(key->pkey) < kMinRsaBits) {
    return InvalidArgument("rs256 public key has " + std::to_string(EVP_PKEY_bits(key->pkey)) +
                           " bits (at least 2048 needed)");
  }
  return std::shared_ptr<const RsaPublicKey>(std::move(key));
}

}  // namespace

Result<JwtVerifier> JwtVerifier::Create(JwtConfig config) {
  if (!config.enabled()) {
    return InvalidArgument("no key configured (an hs256 secret or an rs256 public key)");
  }
  if (!config.hs256_secret.empty() && config.hs256_secret.size() < kMinSecretBytes) {
    return InvalidArgument("the hs256 secret has " + std::to_string(config.hs256_secret.size()) +
                           " bytes (at least 32 needed)");
  }
  if (config.leeway_seconds < 0) return InvalidArgument("leeway must be >= 0 seconds");
  if (config.roles_claim.empty()) return InvalidArgument("the roles claim needs a name");
  std::shared_ptr<const RsaPublicKey> rsa;
  if (!config.rs256_public_key_pem.empty()) {
    ORMDB_ASSIGN_OR_RETURN(rsa, ParseRsaKey(config.rs256_public_key_pem));
  }
  return JwtVerifier(std::move(config), std::move(rsa));
}

Result<Principal> JwtVerifier::Verify(std::string_view token, int64_t now) const {
  if (token.size() > kMaxTokenBytes) return Refused("token too long");
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == token.npos ? token.npos : token.find('.', dot1 + 1);
  if (dot2 == token.npos || token.find('.', dot2 + 1) != token.npos) {
    return Refused("malformed token (needs header.payload.signature)");
  }
  std::optional<std::string> header_text = DecodeBase64Url(token.substr(0, dot1));
  std::optional<std::string> payload_text =
      DecodeBase64Url(token.substr(dot1 + 1, dot2 - dot1 - 1));
  std::optional<std::string> signature = DecodeBase64Url(token.substr(dot2 + 1));
  if (!header_text || !payload_text || !signature) return Refused("malformed base64url");

  ORMDB_ASSIGN_OR_RETURN(Json header, ParseSegment(*header_text, "header"));
  const Json* alg = header.Find("alg");
  if (alg == nullptr || !alg->is_string()) return Refused("header has no alg");
  const std::string& a = alg->as_string();
  // RFC 7515 §4.1.11: an extension we do not know must not be ignored.
  if (header.Find("crit") != nullptr) return Refused("crit header not supported");
  std::string_view signing_input = token.substr(0, dot2);
  if (a == "none" || a == "None" || a == "NONE") return Refused("alg none refused");
  if (a == "HS256") {
    if (config_.hs256_secret.empty()) return Refused("alg HS256 not accepted");
    if (!VerifyHs256(config_.hs256_secret, signing_input, *signature)) {
      return Refused("bad signature");
    }
  } else if (a == "RS256") {
    if (rsa_ == nullptr) return Refused("alg RS256 not accepted");
    if (!VerifyRs256(rsa_->pkey, signing_input, *signature)) return Refused("bad signature");
  } else {
    return Refused("alg not accepted (HS256 or RS256)");
  }

  ORMDB_ASSIGN_OR_RETURN(Json payload, ParseSegment(*payload_text, "payload"));
  const double leeway = static_cast<double>(config_.leeway_seconds);
  const double at = static_cast<double>(now);
  const Json* exp = payload.Find("exp");
  if (exp == nullptr) return Refused("token has no exp");
  std::optional<double> exp_at = NumericDate(*exp);
  if (!exp_at) return Refused("exp is not a number");
  if (at - leeway >= *exp_at) return Refused("token expired");
  if (const Json* nbf = payload.Find("nbf")) {
    std::optional<double> nbf_at = NumericDate(*nbf);
    if (!nbf_at) return Refused("nbf is not a number");
    if (at + leeway < *nbf_at) return Refused("token not yet valid");
  }
  if (!config_.issuer.empty()) {
    const Json* iss = payload.Find("iss");
    if (iss == nullptr || !iss->is_string() || iss->as_string() != config_.issuer) {
      return Refused("wrong issuer");
    }
  }
  if (!config_.audience.empty()) {
    const Json* aud = payload.Find("aud");
    bool match = false;
    if (aud != nullptr && aud->is_string()) match = aud->as_string() == config_.audience;
    if (aud != nullptr && aud->is_array()) {
      for (const Json& e : aud->as_array()) {
        if (e.is_string() && e.as_string() == config_.audience) match = true;
      }
    }
    if (!match) return Refused("wrong audience");
  }

  Principal p;
  p.authenticated = true;
  if (const Json* sub = payload.Find("sub")) {
    if (sub->is_string()) {
      std::optional<int64_t> n = IntegerSubject(sub->as_string());
      p.id_json = n ? std::to_string(*n) : ToJson(*sub);
    } else if (sub->is_int()) {
      p.id_json = ToJson(*sub);
    } else {
      return Refused("sub is not a string");
    }
  }
  if (const Json* roles = payload.Find(config_.roles_claim)) {
    if (!roles->is_array()) return Refused("roles claim is not an array of strings");
    for (const Json& r : roles->as_array()) {
      if (!r.is_string()) return Refused("roles claim is not an array of strings");
      p.roles.push_back(r.as_string());
    }
  }
  Json claims = Json::Object();
  for (const auto& [name, value] : payload.as_object()) {
    if (IsRegisteredClaim(name) || name == config_.roles_claim) continue;
    if (name == "id" || name == "roles" || name == "has_role" || !UsableClaim(value)) continue;
    claims.Set(name, value);
  }
  p.claims_json = ToJson(claims);
  return p;
}

Result<Principal> VerifyJwt(std::string_view token, const JwtConfig& config,
                            int64_t now_unix_seconds) {
  Result<JwtVerifier> verifier = JwtVerifier::Create(config);
  if (!verifier.ok()) {
    return Status(ErrorCode::kUnauthenticated,
                  "JWT: not configured: " + verifier.status().message());
  }
  return verifier->Verify(token, now_unix_seconds);
}

Status ValidateJwtConfig(const JwtConfig& config) { return JwtVerifier::Create(config).status(); }

}  // namespace ormdb::auth
