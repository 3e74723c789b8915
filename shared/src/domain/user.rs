use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{ObjectId, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a name must not be empty")]
    Empty,
    #[error("'{0}' is longer than 96 characters")]
    TooLong(String),
    #[error("'{0}' may only hold ASCII letters, digits, '_', '-' and '.'")]
    BadCharacter(String),
    #[error("'{0}' must not start or end with '-' or '.', nor contain '--' or '..'")]
    BadPunctuation(String),
    #[error("'{0}' is reserved")]
    Reserved(String),
}

/// Words that are paths of the server itself, so no user or organization may take them.
const RESERVED: &[&str] = &[
    "api",
    "datasets",
    "spaces",
    "models",
    "login",
    "logout",
    "settings",
    "static",
    "new",
    "organizations",
    "docs",
    "resolve",
];

/// A user name, an organization name, or one segment of a repo id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(String);

impl Name {
    /// A user or organization name: a segment that is not one of the server's own paths.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let name = Self::parse_segment(text)?;
        if RESERVED
            .iter()
            .any(|reserved| reserved.eq_ignore_ascii_case(text))
        {
            return Err(NameError::Reserved(text.to_owned()));
        }
        Ok(name)
    }

    /// A repo name segment: the client's `validate_repo_id` character rules.
    pub fn parse_segment(text: &str) -> Result<Self, NameError> {
        if text.is_empty() {
            return Err(NameError::Empty);
        }
        if text.len() > 96 {
            return Err(NameError::TooLong(text.chars().take(96).collect()));
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        {
            return Err(NameError::BadCharacter(text.to_owned()));
        }
        let edge = |b: u8| b == b'-' || b == b'.';
        let bytes = text.as_bytes();
        if edge(bytes[0])
            || edge(bytes[bytes.len() - 1])
            || text.contains("--")
            || text.contains("..")
        {
            return Err(NameError::BadPunctuation(text.to_owned()));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Name {
    type Err = NameError;
    fn from_str(text: &str) -> Result<Self, NameError> {
        Name::parse(text)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Name::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// One mailbox address (`local@domain`), at most 254 characters, no display name and no
/// line breaks, so it can go into a mail header as it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > 254 {
            return Err("an email address is at most 254 characters".into());
        }
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(format!(
                "'{}' is not a valid email address",
                text.escape_debug()
            ));
        }
        let address = email_address::EmailAddress::parse_with_options(
            text,
            email_address::Options::default().without_display_text(),
        )
        .map_err(|_| format!("'{text}' is not a valid email address"))?;
        Ok(Self(address.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Email::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The longest full name of a user or an organization, in characters: short enough that a
/// request, which carries its requester's, always fits a store record.
pub const MAX_FULLNAME_CHARS: usize = 200;

/// Passes a full name of at most [`MAX_FULLNAME_CHARS`] characters.
pub fn check_fullname(text: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > MAX_FULLNAME_CHARS {
        return Err(format!(
            "a full name is at most {MAX_FULLNAME_CHARS} characters; this one has {chars}"
        ));
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: ObjectId,
    pub name: Name,
    pub fullname: String,
    pub email: Option<Email>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    pub id: ObjectId,
    pub name: Name,
    pub fullname: String,
    pub created_at: Timestamp,
}

/// A member's role in an organization, which is also their role on its repos.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    Read,
    Write,
    Admin,
}

impl OrgRole {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Read => "read",
            OrgRole::Write => "write",
            OrgRole::Admin => "admin",
        }
    }
}

impl FromStr for OrgRole {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "read" => Ok(OrgRole::Read),
            "write" => Ok(OrgRole::Write),
            "admin" => Ok(OrgRole::Admin),
            _ => Err(format!(
                "unknown role '{text}': expected admin, write or read"
            )),
        }
    }
}

/// A user's membership of an organization; `joined_at` orders members by join order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub user: User,
    pub role: OrgRole,
    pub joined_at: Timestamp,
}

/// Who a repo namespace belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Namespace {
    User(User),
    Organization(Organization),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_names_are_at_most_200_characters() {
        assert!(check_fullname(&"é".repeat(MAX_FULLNAME_CHARS)).is_ok());
        let error = check_fullname(&"é".repeat(MAX_FULLNAME_CHARS + 1)).unwrap_err();
        assert!(error.contains("at most 200 characters"), "{error}");
    }

    #[test]
    fn names_follow_the_hub_rules() {
        assert!(Name::parse("alice-b_2.c").is_ok());
        for bad in ["", "-a", "a.", "a--b", "a..b", "a b", "a/b", "ü"] {
            assert!(Name::parse(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(Name::parse("API"), Err(NameError::Reserved(_))));
    }

    #[test]
    fn emails_are_single_mailboxes_without_line_breaks() {
        assert!(Email::parse("alice@example.com").is_ok());
        for bad in [
            "alice",
            "Alice <alice@example.com>",
            "alice@example.com\r\nBcc: x@y.z",
            "a@b.c, d@e.f",
            &format!("{}@example.com", "a".repeat(250)),
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn org_roles_order_read_below_write_below_admin() {
        assert!(OrgRole::Read < OrgRole::Write && OrgRole::Write < OrgRole::Admin);
        assert_eq!("write".parse::<OrgRole>(), Ok(OrgRole::Write));
        assert!("owner".parse::<OrgRole>().is_err());
    }
}
