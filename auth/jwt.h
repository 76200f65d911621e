// JSON Web Tokens (RFC 7519) as the principal of a request (DESIGN.md §10):
// a client sends a JWT signed by an identity provider, the server verifies
// it with OpenSSL and acts for the principal it names.
//
// Accepted: the compact JWS form (three base64url segments, no padding)
// signed with HS256 (a shared secret) or RS256 (an RSA public key). Every
// other `alg` is refused, `none` above all, and a token may only use an
// algorithm whose key is configured: an RS256 public key is never used as
// an HMAC secret (the classic algorithm-confusion attack).
//
// Checked, in order: the form and its base64url, the header, the signature
// (HMAC compared in constant time), then the claims: `exp` (required),
// `nbf`, `iss` and `aud` when configured, all with `leeway_seconds`.
//
// The principal: `sub` is the id (a sub that reads as an int64, "42",
// becomes the integer id 42; any other string stays a string; no sub: no
// id), the claim named by `roles_claim` holds the roles (an array of
// strings), and every other claim but the registered ones (iss sub aud exp
// nbf iat jti) becomes a claim of the principal. Claims a policy cannot use
// (objects, lists holding objects or lists, and the names `id`, `roles`,
// `has_role`) are left out.
//
// Errors: UNAUTHENTICATED with a short reason ("token expired", "wrong
// audience", "bad signature", "alg none refused", ...). A message never
// echoes the token or any of its contents: it may land in a log.
//
// Thread-safety: a JwtVerifier is immutable after Create; Verify may be
// called from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ormdb/principal.h"
#include "ormdb/status.h"

namespace ormdb::auth {

struct RsaPublicKey;  // a parsed RS256 key (an OpenSSL EVP_PKEY), opaque

struct JwtConfig {
  // The HS256 shared secret (raw bytes, at least 32: RFC 7518 §3.2 wants a
  // key as long as the hash). Empty: HS256 tokens are refused.
  std::string hs256_secret;
  // The RS256 public key as PEM ("-----BEGIN PUBLIC KEY-----", an RSA key
  // of at least 2048 bits). Empty: RS256 tokens are refused.
  std::string rs256_public_key_pem;
  // When set, `iss` must equal it.
  std::string issuer;
  // When set, `aud` (a string or an array of strings) must hold it.
  std::string audience;
  // The top-level claim holding the roles (an array of strings). Absent
  // from a token: the principal has no roles.
  std::string roles_claim = "roles";
  // Clock skew allowed for `exp` and `nbf`. Default 30 s.
  int64_t leeway_seconds = 30;

  // Whether any key is configured (a server without one takes no JWT).
  bool enabled() const { return !hs256_secret.empty() || !rs256_public_key_pem.empty(); }
};

// A JwtConfig with its RSA key parsed once, for verifying many tokens.
class JwtVerifier {
 public:
  // INVALID_ARGUMENT for a config that cannot verify anything or is weak:
  // no key at all, an HS256 secret under 32 bytes, a PEM that is not an RSA
  // public key or is under 2048 bits, a negative leeway, an empty
  // roles_claim.
  static Result<JwtVerifier> Create(JwtConfig config);

  // The principal of a valid token, or UNAUTHENTICATED with a short reason.
  // `now_unix_seconds` is the current time (a parameter so tests can move
  // it).
  Result<Principal> Verify(std::string_view token, int64_t now_unix_seconds) const;

  const JwtConfig& config() const { return config_; }

 private:
  JwtVerifier(JwtConfig config, std::shared_ptr<const RsaPublicKey> rsa)
      : config_(std::move(config)), rsa_(std::move(rsa)) {}

  JwtConfig config_;
  std::shared_ptr<const RsaPublicKey> rsa_;  // null when no RS256 key is configured
};

// One-shot: JwtVerifier::Create(config) then Verify. A config that Create
// refuses makes every token UNAUTHENTICATED ("JWT: not configured: ...").
// Parses the PEM on every call: keep a JwtVerifier for a stream of tokens.
Result<Principal> VerifyJwt(std::string_view token, const JwtConfig& config,
                            int64_t now_unix_seconds);

// The config checks of JwtVerifier::Create, for config parsers.
Status ValidateJwtConfig(const JwtConfig& config);

}  // namespace ormdb::auth
