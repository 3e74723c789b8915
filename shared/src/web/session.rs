//! Signing in a browser: a signed, expiring session cookie that names an access token (by its
//! digest, never the secret), and the CSRF token every state-changing form carries.
//!
//! The CSRF defence is OWASP's signed double-submit cookie: a random `gatehouse_csrf` cookie,
//! and in each form an HMAC of that cookie and the session cookie. A forged post from another
//! site can neither read the cookie nor compute the HMAC; a browser does not send `SameSite=Lax`
//! cookies with a cross-site post in the first place.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::Sha256;

use crate::domain::{Timestamp, TokenDigest};

/// The cookie that holds the session.
pub const SESSION_COOKIE: &str = "gatehouse_session";
/// The cookie that anchors the forms' CSRF tokens.
pub const CSRF_COOKIE: &str = "gatehouse_csrf";
/// How long a session lasts after signing in.
pub const SESSION_SECONDS: i64 = 7 * 24 * 60 * 60;
/// Cookie values longer than this are not read: no valid cookie of ours comes close.
const MAX_COOKIE_VALUE: usize = 512;

/// The secret that signs session cookies and CSRF tokens, the same for every function (in the
/// template, a generated Secrets Manager secret; locally, a file in the data dir).
#[derive(Clone)]
pub struct SessionKey(Arc<[u8]>);

#[derive(Debug, thiserror::Error)]
#[error("the session signing secret is {0} bytes; it must be at least {min}", min = SessionKey::MIN_LEN)]
pub struct ShortSecret(usize);

impl SessionKey {
    /// The shortest secret accepted, in bytes.
    pub const MIN_LEN: usize = 32;

    pub fn from_secret(secret: &[u8]) -> Result<Self, ShortSecret> {
        if secret.len() < Self::MIN_LEN {
            return Err(ShortSecret(secret.len()));
        }
        Ok(Self(Arc::from(secret)))
    }

    /// A fixed key for tests.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        Self(Arc::from(&[9u8; 32][..]))
    }

    /// A fresh random secret, to keep and load with [`Self::from_secret`].
    pub fn new_secret() -> [u8; 32] {
        random_bytes()
    }

    fn mac(&self, purpose: &str, parts: &[&str]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        for part in parts {
            mac.update(b"\0");
            mac.update(part.as_bytes());
        }
        mac
    }

    fn sign(&self, purpose: &str, parts: &[&str]) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(purpose, parts).finalize().into_bytes())
    }

    fn verify(&self, purpose: &str, parts: &[&str], signature: &str) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        self.mac(purpose, parts).verify_slice(&bytes).is_ok()
    }

    /// A session cookie's value for the token `digest`, valid until `now` + [`SESSION_SECONDS`].
    pub fn open_session(&self, digest: TokenDigest, now: Timestamp) -> String {
        let token = digest.to_hex();
        let expires = (now.millis() / 1000 + SESSION_SECONDS).to_string();
        let signature = self.sign("session", &[&token, &expires]);
        format!("{token}.{expires}.{signature}")
    }

    /// The token a session cookie names, if the cookie is ours, intact and not expired.
    pub fn read_session(&self, value: &str, now: Timestamp) -> Option<TokenDigest> {
        let mut parts = value.splitn(3, '.');
        let (token, expires, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if !self.verify("session", &[token, expires], signature) {
            return None;
        }
        let expires: i64 = expires.parse().ok()?;
        if now.millis() / 1000 >= expires {
            return None;
        }
        TokenDigest::from_hex(token)
    }

    /// The CSRF token of the forms a browser holding these cookies may post.
    pub fn csrf_token(&self, csrf_cookie: &str, session_cookie: Option<&str>) -> String {
        self.sign("csrf", &[csrf_cookie, session_cookie.unwrap_or("")])
    }

    /// Whether a posted CSRF token is the one [`Self::csrf_token`] gives for these cookies.
    pub fn csrf_token_matches(
        &self,
        posted: &str,
        csrf_cookie: &str,
        session_cookie: Option<&str>,
    ) -> bool {
        self.verify("csrf", &[csrf_cookie, session_cookie.unwrap_or("")], posted)
    }
}

/// A new random value for the CSRF cookie.
pub fn new_csrf_cookie() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes())
}

fn random_bytes() -> [u8; 32] {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// The value of the cookie `name` in the request's `Cookie` headers. Values that are not
/// text, or absurdly long, are not ours and are ignored.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty() && value.len() <= MAX_COOKIE_VALUE)
}

/// A `Set-Cookie` value: never readable by scripts, sent only with same-site requests and
/// top-level navigations, and over HTTPS only when the site is served over HTTPS.
/// `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SessionKey {
        SessionKey::from_secret(&[7u8; 32]).unwrap()
    }

    fn digest() -> TokenDigest {
        TokenDigest::from_hex(&"ab".repeat(32)).unwrap()
    }

    #[test]
    fn a_session_cookie_names_its_token_until_it_expires() {
        let now = Timestamp::from_millis(1_000_000_000_000);
        let value = key().open_session(digest(), now);
        assert_eq!(key().read_session(&value, now), Some(digest()));
        let later = Timestamp::from_millis(now.millis() + SESSION_SECONDS * 1000);
        assert_eq!(key().read_session(&value, later), None);
    }

    #[test]
    fn a_tampered_or_foreign_session_cookie_is_not_read() {
        let now = Timestamp::from_millis(1_000_000_000_000);
        let value = key().open_session(digest(), now);
        let other_token = value.replacen("ab", "cd", 1);
        let longer = {
            let (_, rest) = value.split_once('.').unwrap();
            let (expires, signature) = rest.split_once('.').unwrap();
            let extended: i64 = expires.parse::<i64>().unwrap() + 1000;
            format!("{}.{extended}.{signature}", "ab".repeat(32))
        };
        let other_key = SessionKey::from_secret(&[8u8; 32]).unwrap();
        for bad in [other_token.as_str(), &longer, "", "a.b.c", "...", "x"] {
            assert_eq!(key().read_session(bad, now), None, "{bad}");
        }
        assert_eq!(other_key.read_session(&value, now), None);
    }

    #[test]
    fn a_csrf_token_is_bound_to_both_cookies() {
        let token = key().csrf_token("anchor", Some("session"));
        assert!(key().csrf_token_matches(&token, "anchor", Some("session")));
        assert!(!key().csrf_token_matches(&token, "other", Some("session")));
        assert!(!key().csrf_token_matches(&token, "anchor", None));
        assert!(!key().csrf_token_matches("forged", "anchor", Some("session")));
        assert!(!key().csrf_token_matches("", "anchor", Some("session")));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(SessionKey::from_secret(b"short").is_err());
    }

    #[test]
    fn cookies_are_found_by_name_across_headers() {
        let mut headers = HeaderMap::new();
        headers.append("cookie", "a=1; gatehouse_csrf=xyz".parse().unwrap());
        headers.append("cookie", "gatehouse_session=s".parse().unwrap());
        assert_eq!(cookie(&headers, CSRF_COOKIE), Some("xyz"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("s"));
        assert_eq!(cookie(&headers, "missing"), None);
        let huge = format!("gatehouse_csrf={}", "x".repeat(MAX_COOKIE_VALUE + 1));
        let mut big = HeaderMap::new();
        big.append("cookie", huge.parse().unwrap());
        assert_eq!(cookie(&big, CSRF_COOKIE), None);
    }

    #[test]
    fn cookies_are_http_only_same_site_and_secure_over_https() {
        let plain = set_cookie(SESSION_COOKIE, "v", 60, false);
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Lax"));
        assert!(!plain.contains("Secure"));
        assert!(set_cookie(SESSION_COOKIE, "v", 60, true).ends_with("; Secure"));
    }
}
