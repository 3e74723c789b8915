use std::fmt;
use std::str::FromStr;

use rand::Rng;
use rand::distr::Alphanumeric;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a token may do: read everything its user can read, or also write where its user can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenRole {
    Read,
    Write,
}

impl TokenRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenRole::Read => "read",
            TokenRole::Write => "write",
        }
    }
}

impl FromStr for TokenRole {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "read" => Ok(TokenRole::Read),
            "write" => Ok(TokenRole::Write),
            _ => Err(format!(
                "unknown token role '{text}': expected read or write"
            )),
        }
    }
}

/// The longest display name of a token, in characters: it is part of a store key, and keys
/// are short.
pub const MAX_TOKEN_NAME_CHARS: usize = 200;

/// Passes a token display name of at most [`MAX_TOKEN_NAME_CHARS`] characters.
pub fn check_token_name(text: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > MAX_TOKEN_NAME_CHARS {
        return Err(format!(
            "a token name is at most {MAX_TOKEN_NAME_CHARS} characters; this one has {chars}"
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a token secret is 20 to 200 printable ASCII characters without spaces")]
pub struct TokenSecretError;

/// A token's secret, as the caller presents it. Shown once, never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(String);

impl TokenSecret {
    /// A new secret in the Hub's shape: `hf_` and 34 random letters and digits.
    pub fn generate() -> Self {
        let random: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(34)
            .map(char::from)
            .collect();
        Self(format!("hf_{random}"))
    }

    pub fn parse(text: &str) -> Result<Self, TokenSecretError> {
        let printable = text.bytes().all(|b| b.is_ascii_graphic());
        if (20..=200).contains(&text.len()) && printable {
            Ok(Self(text.to_owned()))
        } else {
            Err(TokenSecretError)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> TokenDigest {
        TokenDigest(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSecret(***)")
    }
}

/// The SHA-256 of a token secret: all the store ever keeps of it.
#[derive(Clone, Copy, Debug, Eq)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }
}

impl PartialEq for TokenDigest {
    /// Constant time, so comparing digests tells an attacker nothing about the secret.
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names_are_at_most_200_characters() {
        assert!(check_token_name(&"😀".repeat(MAX_TOKEN_NAME_CHARS)).is_ok());
        let error = check_token_name(&"x".repeat(MAX_TOKEN_NAME_CHARS + 1)).unwrap_err();
        assert!(error.contains("at most 200 characters"), "{error}");
    }

    #[test]
    fn generated_secrets_look_like_hub_tokens_and_differ() {
        let a = TokenSecret::generate();
        let b = TokenSecret::generate();
        assert!(a.expose().starts_with("hf_") && a.expose().len() == 37);
        assert_ne!(a, b);
        assert!(TokenSecret::parse(a.expose()).is_ok());
    }

    #[test]
    fn secrets_must_be_20_to_200_printable_characters() {
        assert!(TokenSecret::parse("hf_owner_write_token_1").is_ok());
        assert!(TokenSecret::parse("short").is_err());
        assert!(TokenSecret::parse(&"x".repeat(201)).is_err());
        assert!(TokenSecret::parse("has a space in the middle").is_err());
        assert!(TokenSecret::parse("tab\tinside_the_secret_value").is_err());
    }

    #[test]
    fn digests_round_trip_through_hex_and_never_show_the_secret() {
        let secret = TokenSecret::parse("hf_owner_write_token_1").unwrap();
        let digest = secret.digest();
        assert_eq!(TokenDigest::from_hex(&digest.to_hex()), Some(digest));
        assert!(!format!("{secret:?}").contains("owner"));
    }
}
