//! Repo content as downloads name it: a revision, and a file's path in the repo.

use std::fmt;

/// The longest file path a repo may hold, in bytes (a DynamoDB sort key holds 1024).
pub const MAX_PATH_BYTES: usize = 1000;

/// A revision of a repo: the `main` branch, or a full commit id (40 lowercase hex digits,
/// as the Hub client expects in `X-Repo-Commit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revision {
    Main,
    Commit(String),
}

impl Revision {
    /// `None` for anything else: another branch, a tag, a pull request ref, a short id.
    pub fn parse(text: &str) -> Option<Self> {
        if text == "main" {
            Some(Revision::Main)
        } else if is_commit_id(text) {
            Some(Revision::Commit(text.to_owned()))
        } else {
            None
        }
    }

    /// Whether this revision is the commit `head` that `main` points at.
    pub fn is_at(&self, head: &str) -> bool {
        match self {
            Revision::Main => true,
            Revision::Commit(id) => id == head,
        }
    }
}

fn is_commit_id(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A file's path in a repo: relative, `/`-separated, no empty, `.` or `..` segment, no
/// backslash or control character, at most [`MAX_PATH_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepoPath(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{}' is not a valid file path in a repo", .0.escape_debug())]
pub struct RepoPathError(String);

impl RepoPath {
    pub fn parse(path: &str) -> Result<Self, RepoPathError> {
        let bad = path.is_empty()
            || path.len() > MAX_PATH_BYTES
            || path.starts_with('/')
            || path.chars().any(|c| c.is_control() || c == '\\')
            || path
                .split('/')
                .any(|part| part.is_empty() || part == "." || part == "..");
        if bad {
            let shown: String = path.chars().take(200).collect();
            return Err(RepoPathError(shown));
        }
        Ok(RepoPath(path.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_and_full_lowercase_commit_ids_are_revisions() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(Revision::parse("main"), Some(Revision::Main));
        assert_eq!(Revision::parse(id), Some(Revision::Commit(id.into())));
        for other in [
            "dev",
            "refs/pr/1",
            "v1.0",
            "0123456",
            &id.to_uppercase(),
            &format!("{id}0"),
            "",
        ] {
            assert_eq!(Revision::parse(other), None, "{other}");
        }
    }

    #[test]
    fn main_is_at_any_head_and_a_commit_only_at_its_own() {
        let (a, b) = ("a".repeat(40), "b".repeat(40));
        assert!(Revision::Main.is_at(&a));
        assert!(Revision::Commit(a.clone()).is_at(&a));
        assert!(!Revision::Commit(a).is_at(&b));
    }

    #[test]
    fn relative_clean_paths_are_repo_paths() {
        for good in [
            "config.json",
            "weights/model.bin",
            "a b/c.d",
            "é/ü.txt",
            ".gitattributes",
        ] {
            assert_eq!(RepoPath::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn escaping_empty_odd_or_absurd_paths_are_refused() {
        let long = "a".repeat(MAX_PATH_BYTES + 1);
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a/./b",
            "a//b",
            "a/",
            ".",
            "..",
            "a\\b",
            "a\0b",
            "a\nb",
            &long,
        ] {
            assert!(RepoPath::parse(bad).is_err(), "{bad:?}");
        }
        assert!(RepoPath::parse(&"a".repeat(MAX_PATH_BYTES)).is_ok());
    }
}
