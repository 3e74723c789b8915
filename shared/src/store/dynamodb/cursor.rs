//! Pagination cursors: DynamoDB's `LastEvaluatedKey`, signed so a client can hand it back
//! but never forge one, and bound to the listing it came from.
//!
//! A cursor is `base64url(JSON {attribute: string})` `.` `base64url(HMAC-SHA256)`, where the
//! MAC covers a version tag, the listing (repo type, repo id, status) and the JSON.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::items::Item;
use crate::store::{Cursor, StoreError, StoreResult};

type HmacSha256 = Hmac<Sha256>;

/// Cursors longer than this are refused before any decoding. Real ones are a few hundred
/// characters.
const MAX_CURSOR_LEN: usize = 4096;
const DOMAIN: &[u8] = b"gatehouse/dynamodb-cursor/v1\0";

/// The key that signs pagination cursors (HMAC-SHA256), so clients can't forge
/// `LastEvaluatedKey`. Every instance serving the same table needs the same key, or a cursor
/// from one is refused by another.
#[derive(Clone)]
pub struct CursorKey(Arc<[u8]>);

impl CursorKey {
    /// The shortest secret accepted, in bytes.
    pub const MIN_LEN: usize = 32;

    /// A key from a configured secret (an environment variable, a secrets manager value) of
    /// at least [`Self::MIN_LEN`] bytes.
    pub fn from_secret(secret: &str) -> Result<Self, StoreError> {
        if secret.len() < Self::MIN_LEN {
            return Err(StoreError::Backend(format!(
                "the cursor signing secret is {} bytes; it must be at least {}",
                secret.len(),
                Self::MIN_LEN
            )));
        }
        Ok(Self(Arc::from(secret.as_bytes())))
    }

    /// A fresh random key: cursors stay valid only while this process runs.
    pub fn random() -> Self {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(Arc::from(&bytes[..]))
    }

    fn mac(&self, listing: &str, payload: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(DOMAIN);
        mac.update(listing.as_bytes());
        mac.update(b"\0");
        mac.update(payload);
        mac
    }

    /// The cursor for `key` (a `LastEvaluatedKey`) in the listing named `listing`.
    pub(super) fn sign(&self, listing: &str, key: &Item) -> StoreResult<Cursor> {
        let mut strings = BTreeMap::new();
        for (name, value) in key {
            let AttributeValue::S(text) = value else {
                return Err(StoreError::Backend(format!(
                    "cannot make a cursor of a key whose {name} is not a string"
                )));
            };
            strings.insert(name.as_str(), text.as_str());
        }
        let payload = serde_json::to_vec(&strings)
            .map_err(|e| StoreError::Backend(format!("cannot encode a cursor: {e}")))?;
        let tag = self.mac(listing, &payload).finalize().into_bytes();
        Ok(Cursor::from_client(&format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        )))
    }

    /// The key a cursor holds, if this store signed it for `listing` and it names exactly
    /// the `attributes` of that listing's index; `InvalidCursor` for anything else.
    pub(super) fn verify(
        &self,
        listing: &str,
        cursor: &Cursor,
        attributes: &[&str],
    ) -> StoreResult<Item> {
        let text = cursor.as_str();
        if text.len() > MAX_CURSOR_LEN {
            return Err(StoreError::InvalidCursor);
        }
        let (payload, tag) = text.split_once('.').ok_or(StoreError::InvalidCursor)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| StoreError::InvalidCursor)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| StoreError::InvalidCursor)?;
        // Constant time: the comparison tells nothing about the right tag.
        self.mac(listing, &payload)
            .verify_slice(&tag)
            .map_err(|_| StoreError::InvalidCursor)?;
        let strings: HashMap<String, String> =
            serde_json::from_slice(&payload).map_err(|_| StoreError::InvalidCursor)?;
        let complete = strings.len() == attributes.len()
            && attributes.iter().all(|name| strings.contains_key(*name));
        if !complete {
            return Err(StoreError::InvalidCursor);
        }
        Ok(strings
            .into_iter()
            .map(|(name, value)| (name, AttributeValue::S(value)))
            .collect())
    }
}

impl fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CursorKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTRIBUTES: [&str; 4] = ["PK", "SK", "GSI1PK", "GSI1SK"];

    fn key() -> Item {
        ATTRIBUTES
            .iter()
            .map(|name| (name.to_string(), AttributeValue::S(format!("{name}-value"))))
            .collect()
    }

    #[test]
    fn a_signed_cursor_gives_back_its_key_in_its_own_listing_only() {
        let signer = CursorKey::random();
        let cursor = signer.sign("model\0acme/m\0*", &key()).unwrap();
        assert_eq!(
            signer
                .verify("model\0acme/m\0*", &cursor, &ATTRIBUTES)
                .unwrap(),
            key()
        );
        for other in [
            "model\0acme/m\0pending",
            "dataset\0acme/m\0*",
            "model\0acme/n\0*",
        ] {
            assert!(matches!(
                signer.verify(other, &cursor, &ATTRIBUTES),
                Err(StoreError::InvalidCursor)
            ));
        }
        // Another key (another deployment, or a guess) does not accept it.
        assert!(matches!(
            CursorKey::random().verify("model\0acme/m\0*", &cursor, &ATTRIBUTES),
            Err(StoreError::InvalidCursor)
        ));
        // Nor does a listing on another index.
        assert!(matches!(
            signer.verify(
                "model\0acme/m\0*",
                &cursor,
                &["PK", "SK", "GSI2PK", "GSI2SK"]
            ),
            Err(StoreError::InvalidCursor)
        ));
    }

    #[test]
    fn a_tampered_or_forged_cursor_is_refused() {
        let signer = CursorKey::random();
        let listing = "model\0acme/m\0*";
        let cursor = signer.sign(listing, &key()).unwrap();
        let (payload, tag) = cursor.as_str().split_once('.').unwrap();

        let mut forged_key = key();
        forged_key.insert("SK".into(), AttributeValue::S("REQUEST#zzz".into()));
        let forged_payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&keys_as_strings(&forged_key)).unwrap());
        let mut flipped = URL_SAFE_NO_PAD.decode(tag).unwrap();
        flipped[0] ^= 1;
        for text in [
            format!("{forged_payload}.{tag}"),
            format!("{payload}.{}", URL_SAFE_NO_PAD.encode(flipped)),
            format!("{payload}."),
            payload.to_owned(),
            format!("{payload}.{tag}.x"),
            format!("{payload}.{tag}="),
            "x".repeat(MAX_CURSOR_LEN + 1),
            String::new(),
        ] {
            let result = signer.verify(listing, &Cursor::from_client(&text), &ATTRIBUTES);
            assert!(matches!(result, Err(StoreError::InvalidCursor)), "{text:?}");
        }
    }

    fn keys_as_strings(item: &Item) -> BTreeMap<String, String> {
        item.iter()
            .map(|(k, v)| (k.clone(), v.as_s().unwrap().clone()))
            .collect()
    }

    #[test]
    fn only_string_keys_make_cursors_and_secrets_must_be_long() {
        let mut numeric = key();
        numeric.insert("N".into(), AttributeValue::N("1".into()));
        assert!(matches!(
            CursorKey::random().sign("l", &numeric),
            Err(StoreError::Backend(_))
        ));
        assert!(CursorKey::from_secret(&"s".repeat(31)).is_err());
        assert!(CursorKey::from_secret(&"s".repeat(32)).is_ok());
        assert_eq!(format!("{:?}", CursorKey::random()), "CursorKey(***)");
    }
}
