use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Email, Name, NameError, Timestamp};

/// The three kinds of repository the Hub hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoType {
    Model,
    Dataset,
    Space,
}

impl RepoType {
    pub const ALL: [RepoType; 3] = [RepoType::Model, RepoType::Dataset, RepoType::Space];

    pub fn as_str(self) -> &'static str {
        match self {
            RepoType::Model => "model",
            RepoType::Dataset => "dataset",
            RepoType::Space => "space",
        }
    }

    /// The plural used in API paths: `/api/models/...`.
    pub fn plural(self) -> &'static str {
        match self {
            RepoType::Model => "models",
            RepoType::Dataset => "datasets",
            RepoType::Space => "spaces",
        }
    }

    pub fn from_plural(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.plural() == text)
    }

    /// The prefix of web and content paths: none for models, `/datasets` and `/spaces` otherwise.
    pub fn url_prefix(self) -> &'static str {
        match self {
            RepoType::Model => "",
            RepoType::Dataset => "/datasets",
            RepoType::Space => "/spaces",
        }
    }
}

impl FromStr for RepoType {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or_else(|| format!("unknown repo type '{text}': expected model, dataset or space"))
    }
}

impl fmt::Display for RepoType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoIdError {
    #[error("repo id is empty")]
    Empty,
    #[error("repo id '{0}' has more than one '/'")]
    TooManySegments(String),
    #[error("repo id is longer than 96 characters")]
    TooLong,
    #[error("repo id '{id}': {reason}")]
    Segment { id: String, reason: NameError },
}

/// `name` or `namespace/name`, following the client's `validate_repo_id` rules: each part
/// made of ASCII letters, digits, `_`, `-` and `.`, no `--` or `..`, at most 96 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoId {
    namespace: Option<Name>,
    name: Name,
}

impl RepoId {
    pub fn parse(text: &str) -> Result<Self, RepoIdError> {
        if text.is_empty() {
            return Err(RepoIdError::Empty);
        }
        if text.len() > 96 {
            return Err(RepoIdError::TooLong);
        }
        let segment = |part: &str| {
            Name::parse_segment(part).map_err(|reason| RepoIdError::Segment {
                id: text.to_owned(),
                reason,
            })
        };
        match text.split('/').collect::<Vec<_>>().as_slice() {
            [name] => Ok(Self {
                namespace: None,
                name: segment(name)?,
            }),
            [namespace, name] => Ok(Self {
                namespace: Some(
                    Name::parse(namespace).map_err(|reason| RepoIdError::Segment {
                        id: text.to_owned(),
                        reason,
                    })?,
                ),
                name: segment(name)?,
            }),
            _ => Err(RepoIdError::TooManySegments(text.to_owned())),
        }
    }

    /// The user or organization the repo belongs to; `None` for legacy one-segment ids.
    pub fn namespace(&self) -> Option<&Name> {
        self.namespace.as_ref()
    }

    pub fn name(&self) -> &Name {
        &self.name
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{namespace}/{}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

impl FromStr for RepoId {
    type Err = RepoIdError;
    fn from_str(text: &str) -> Result<Self, RepoIdError> {
        RepoId::parse(text)
    }
}

impl Serialize for RepoId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RepoId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RepoId::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A repo's identity: its type and id (`model` `org/m` is not `dataset` `org/m`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoRef {
    pub repo_type: RepoType,
    pub id: RepoId,
}

impl RepoRef {
    pub fn new(repo_type: RepoType, id: RepoId) -> Self {
        Self { repo_type, id }
    }

    /// The repo's page path: `/org/m`, `/datasets/org/d`, `/spaces/org/s`.
    pub fn web_path(&self) -> String {
        format!("{}/{}", self.repo_type.url_prefix(), self.id)
    }

    /// A stable 24-hex id for the repo (the Hub's `_id`), derived from its type and id.
    pub fn object_id(&self) -> String {
        use sha1::Digest;
        let digest = sha1::Sha1::digest(format!("{}/{}", self.repo_type, self.id).as_bytes());
        hex::encode(&digest[..12])
    }

    /// The repo's API path: `/api/models/org/m`.
    pub fn api_path(&self) -> String {
        format!("/api/{}/{}", self.repo_type.plural(), self.id)
    }
}

impl fmt::Display for RepoRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.repo_type, self.id)
    }
}

/// Gating: off, on with automatic approval, or on with manual review.
/// On the wire `false`, `"auto"` or `"manual"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum GateMode {
    #[default]
    Off,
    Auto,
    Manual,
}

impl GateMode {
    pub fn is_gated(self) -> bool {
        self != GateMode::Off
    }

    /// The stored form: `off`, `auto`, `manual`.
    pub fn as_str(self) -> &'static str {
        match self {
            GateMode::Off => "off",
            GateMode::Auto => "auto",
            GateMode::Manual => "manual",
        }
    }

    pub fn from_stored(text: &str) -> Option<Self> {
        [GateMode::Off, GateMode::Auto, GateMode::Manual]
            .into_iter()
            .find(|m| m.as_str() == text)
    }

    /// Reads the wire form; anything but `false`, `"auto"` or `"manual"` is refused.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        match value {
            serde_json::Value::Bool(false) => Ok(GateMode::Off),
            serde_json::Value::String(s) if s == "auto" => Ok(GateMode::Auto),
            serde_json::Value::String(s) if s == "manual" => Ok(GateMode::Manual),
            other => Err(format!(
                "invalid value for 'gated': {other}; expected false, \"auto\" or \"manual\""
            )),
        }
    }

    pub fn to_json(self) -> serde_json::Value {
        match self {
            GateMode::Off => serde_json::Value::Bool(false),
            GateMode::Auto => "auto".into(),
            GateMode::Manual => "manual".into(),
        }
    }
}

impl Serialize for GateMode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for GateMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        GateMode::from_json(&value).map_err(serde::de::Error::custom)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Public,
    Private,
}

impl Visibility {
    pub fn is_private(self) -> bool {
        self == Visibility::Private
    }

    /// The stored and wire form: `public` or `private`.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Visibility::Public, Visibility::Private]
            .into_iter()
            .find(|v| v.as_str() == text)
    }

    pub fn from_private(private: bool) -> Self {
        if private {
            Visibility::Private
        } else {
            Visibility::Public
        }
    }
}

/// How owners hear about new pending requests: a daily digest (the Hub's default) or one
/// email per request. On the wire `"bulk"` or `"real-time"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum NotificationsMode {
    #[default]
    #[serde(rename = "bulk")]
    Bulk,
    #[serde(rename = "real-time")]
    RealTime,
}

impl NotificationsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationsMode::Bulk => "bulk",
            NotificationsMode::RealTime => "real-time",
        }
    }

    /// Reads the wire names, `bulk` and `real-time`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "bulk" => Some(NotificationsMode::Bulk),
            "real-time" => Some(NotificationsMode::RealTime),
            _ => None,
        }
    }
}

/// A repository as the store keeps it. Its files and card come with the latest commit.
#[derive(Clone, Debug, PartialEq)]
pub struct Repo {
    pub repo: RepoRef,
    /// The user or organization that owns the repo; for two-segment ids, the namespace.
    pub owner: Name,
    pub visibility: Visibility,
    pub gate: GateMode,
    pub notifications_mode: NotificationsMode,
    pub notifications_email: Option<Email>,
    /// Whether a requester is mailed when their request is accepted or rejected (on unless
    /// the managers turn it off).
    pub requester_emails: bool,
    /// The commit `main` points at: 40 lowercase hex digits.
    pub sha: String,
    /// The README's YAML front matter (without the `---` lines), if it has one.
    pub front_matter: Option<String>,
    pub created_at: Timestamp,
    pub last_modified: Timestamp,
}

/// A README as the repo page shows it: its Markdown rendered to safe HTML once, when a commit
/// changes README.md, so no page has to read the blob or carry a Markdown renderer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadmeHtml {
    /// What follows the front matter.
    pub body: ReadmeBody,
    /// The gate card's `extra_gated_prompt`, when the card reads.
    pub prompt: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub enum ReadmeBody {
    /// Nothing below the front matter.
    #[default]
    Empty,
    Html(String),
    /// Too large to keep with the repo: the page points to the file instead.
    TooLarge,
}

impl ReadmeBody {
    /// How the stores keep it: the HTML, if any, and whether it was too large to keep.
    pub fn stored(&self) -> (Option<&str>, bool) {
        match self {
            ReadmeBody::Empty => (None, false),
            ReadmeBody::Html(html) => (Some(html), false),
            ReadmeBody::TooLarge => (None, true),
        }
    }

    /// The body [`ReadmeBody::stored`] gave; `None` for HTML marked too large to keep, which
    /// no body stores as.
    pub fn from_stored(html: Option<String>, too_large: bool) -> Option<Self> {
        match (html, too_large) {
            (None, false) => Some(ReadmeBody::Empty),
            (Some(html), false) => Some(ReadmeBody::Html(html)),
            (None, true) => Some(ReadmeBody::TooLarge),
            (Some(_), true) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_readme_body_comes_back_from_its_stored_form_and_a_contradiction_does_not() {
        for body in [
            ReadmeBody::Empty,
            ReadmeBody::Html("<p>x</p>".into()),
            ReadmeBody::TooLarge,
        ] {
            let (html, too_large) = body.stored();
            let back = ReadmeBody::from_stored(html.map(str::to_owned), too_large);
            assert_eq!(back, Some(body));
        }
        assert_eq!(ReadmeBody::from_stored(Some("<p>x</p>".into()), true), None);
    }

    #[test]
    fn one_and_two_segment_ids_are_accepted() {
        let id = RepoId::parse("org/model-1.5_b").unwrap();
        assert_eq!(id.namespace().unwrap().as_str(), "org");
        assert_eq!(id.to_string(), "org/model-1.5_b");
        let legacy = RepoId::parse("gpt2").unwrap();
        assert!(legacy.namespace().is_none());
    }

    #[test]
    fn ids_breaking_the_hub_rules_are_refused() {
        for bad in [
            "",
            "a/b/c",
            "org/with space",
            "org/a--b",
            "org/a..b",
            "org/",
            "/m",
            "org/é",
            "../etc",
            &"x".repeat(97),
        ] {
            assert!(RepoId::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn route_words_cannot_be_namespaces() {
        assert!(RepoId::parse("datasets/x").is_err());
        assert!(RepoId::parse("api/x").is_err());
    }

    #[test]
    fn gate_mode_reads_only_the_three_wire_values() {
        use serde_json::json;
        assert_eq!(GateMode::from_json(&json!(false)), Ok(GateMode::Off));
        assert_eq!(GateMode::from_json(&json!("auto")), Ok(GateMode::Auto));
        assert_eq!(GateMode::from_json(&json!("manual")), Ok(GateMode::Manual));
        for bad in [json!(true), json!("false"), json!(null), json!("Manual")] {
            assert!(GateMode::from_json(&bad).is_err());
        }
        assert_eq!(serde_json::to_string(&GateMode::Off).unwrap(), "false");
    }

    #[test]
    fn repo_paths_carry_the_type_prefix() {
        let d = RepoRef::new(RepoType::Dataset, RepoId::parse("org/d").unwrap());
        assert_eq!(d.web_path(), "/datasets/org/d");
        assert_eq!(d.api_path(), "/api/datasets/org/d");
        let m = RepoRef::new(RepoType::Model, RepoId::parse("org/m").unwrap());
        assert_eq!(m.web_path(), "/org/m");
        assert_eq!(m.object_id().len(), 24);
        assert_ne!(
            m.object_id(),
            RepoRef::new(RepoType::Dataset, m.id.clone()).object_id()
        );
    }
}
