use std::fmt;

use rand::RngCore;
use serde::{Serialize, Serializer};

/// A 24-hex identifier, the shape of the Hub's MongoDB ObjectIds (`requestId`, user `_id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId([u8; 12]);

impl ObjectId {
    pub fn random() -> Self {
        let mut bytes = [0u8; 12];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn parse(text: &str) -> Option<Self> {
        let mut bytes = [0u8; 12];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        text.bytes()
            .all(|b| !b.is_ascii_uppercase())
            .then_some(Self(bytes))
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl Serialize for ObjectId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_round_trip_as_24_lowercase_hex() {
        let id = ObjectId::random();
        let text = id.to_string();
        assert_eq!(text.len(), 24);
        assert_eq!(ObjectId::parse(&text), Some(id));
        assert_eq!(ObjectId::parse(&text.to_uppercase()), None);
        assert_eq!(ObjectId::parse("abc"), None);
    }
}
