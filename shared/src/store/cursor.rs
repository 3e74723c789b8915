use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::StoreError;
use crate::domain::{AccessRequest, ObjectId, Timestamp};

/// Where the next page of a listing starts, opaque to clients: they get it in a `Link`
/// URL and hand it back unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    /// Wraps the text a client sent back; whether it is valid is for the store to say.
    pub fn from_client(text: &str) -> Self {
        Self(text.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A keyset position after `request` in (first-request time, id) order.
    pub fn after(request: &AccessRequest) -> Self {
        let position = format!("{}:{}", request.created_at.millis(), request.id);
        Self(URL_SAFE_NO_PAD.encode(position))
    }

    pub fn position(&self) -> Result<(Timestamp, ObjectId), StoreError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(&self.0)
            .map_err(|_| StoreError::InvalidCursor)?;
        let text = String::from_utf8(bytes).map_err(|_| StoreError::InvalidCursor)?;
        let (millis, id) = text.split_once(':').ok_or(StoreError::InvalidCursor)?;
        let millis = millis.parse().map_err(|_| StoreError::InvalidCursor)?;
        let id = ObjectId::parse(id).ok_or(StoreError::InvalidCursor)?;
        Ok((Timestamp::from_millis(millis), id))
    }
}
