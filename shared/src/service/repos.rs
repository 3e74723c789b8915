//! Creating repos, committing files, and reading and changing their settings.

use bytes::Bytes;
use serde_json::{Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::blobs::BlobStore;
use crate::card::{CardError, GateCard};
use crate::domain::{
    Email, GateMode, Name, NotificationsMode, Repo, RepoPath, RepoRef, Timestamp, Visibility,
};
use crate::error::{Error, Result};
use crate::store::{FileEntry, NewCommit, ReadmeUpdate, SettingsUpdate, Store, StoreError};

/// The most files one commit may add or replace: a commit is one transaction, and DynamoDB's
/// hold 100 items, two of them the repo itself and its README's HTML.
pub const MAX_FILES_PER_COMMIT: usize = 98;

/// What a new repo starts with.
#[derive(Debug, Clone)]
pub struct NewRepo {
    pub repo: RepoRef,
    /// Needed only for one-segment ids, which have no namespace to own them.
    pub owner: Option<Name>,
    pub visibility: Visibility,
    pub gate: GateMode,
    pub notifications_mode: NotificationsMode,
    pub notifications_email: Option<Email>,
    pub requester_emails: bool,
}

/// Who owns a new repo: its namespace, or for a one-segment id the owner named.
pub fn repo_owner(repo: &RepoRef, owner: Option<&Name>) -> Result<Name> {
    match (repo.id.namespace(), owner) {
        (Some(namespace), Some(owner)) if namespace != owner => Err(Error::BadRequest(format!(
            "{repo} belongs to '{namespace}', not '{owner}'"
        ))),
        (Some(namespace), _) => Ok(namespace.clone()),
        (None, Some(owner)) => Ok(owner.clone()),
        (None, None) => Err(Error::BadRequest(format!(
            "{repo} has no namespace: name its owner"
        ))),
    }
}

/// Creates an empty repo owned by its namespace, which must be an existing user or
/// organization.
pub async fn create_repo(store: &dyn Store, new: NewRepo) -> Result<Repo> {
    let owner = repo_owner(&new.repo, new.owner.as_ref())?;
    let owner_exists =
        store.user(&owner).await?.is_some() || store.organization(&owner).await?.is_some();
    if !owner_exists {
        return Err(Error::NotFound(format!(
            "No user or organization named '{owner}'"
        )));
    }
    let now = Timestamp::now();
    let repo = Repo {
        sha: commit_id(None, &new.repo.to_string(), &[], now),
        repo: new.repo,
        owner,
        visibility: new.visibility,
        gate: new.gate,
        notifications_mode: new.notifications_mode,
        notifications_email: new.notifications_email,
        requester_emails: new.requester_emails,
        front_matter: None,
        created_at: now,
        last_modified: now,
    };
    store.create_repo(&repo).await.map_err(|e| match e {
        StoreError::AlreadyExists(_) => Error::Conflict(format!("{} already exists", repo.repo)),
        other => other.into(),
    })?;
    Ok(repo)
}

/// Adds or replaces files on `main` in one new commit. A README.md brings its front matter and
/// its HTML along.
pub async fn commit_files(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    repo: &RepoRef,
    files: Vec<(String, Bytes)>,
) -> Result<Repo> {
    let current = store
        .repo(repo)
        .await?
        .ok_or_else(|| Error::NotFound(format!("{repo} not found")))?;
    let CheckedCommit { entries, readme } = check_commit(&files)?;
    for ((_, bytes), entry) in files.into_iter().zip(&entries) {
        blobs.put(&entry.sha256, bytes).await?;
    }
    let at = Timestamp::now();
    let commit = NewCommit {
        sha: commit_id(Some(&current.sha), &repo.to_string(), &entries, at),
        files: entries,
        readme,
        at,
    };
    Ok(store.commit(repo, &commit).await?)
}

/// The files of a commit that may be made: each one's entry, and what the repo keeps of the
/// README.
pub struct CheckedCommit {
    pub entries: Vec<FileEntry>,
    /// `Some` when the commit changes README.md.
    pub readme: Option<ReadmeUpdate>,
}

/// Checks the files of a commit without writing anything: how many, their paths, and the
/// README's front matter and HTML.
pub fn check_commit(files: &[(String, Bytes)]) -> Result<CheckedCommit> {
    if files.len() > MAX_FILES_PER_COMMIT {
        return Err(Error::BadRequest(format!(
            "A commit may add at most {MAX_FILES_PER_COMMIT} files; split the upload"
        )));
    }
    let mut entries = Vec::with_capacity(files.len());
    let mut readme = None;
    for (path, bytes) in files {
        RepoPath::parse(path).map_err(|e| Error::BadRequest(e.to_string()))?;
        if path == "README.md" {
            let text = std::str::from_utf8(bytes)
                .map_err(|_| Error::BadRequest("README.md is not UTF-8 text".into()))?;
            let yaml = crate::card::front_matter(text);
            // Other card errors are stored and reported to the owner; an oversized front
            // matter is refused so it never lands in a store item.
            if yaml.is_some_and(|y| y.len() > crate::card::MAX_FRONT_MATTER_BYTES) {
                return Err(Error::BadRequest(format!(
                    "README.md front matter is larger than {} bytes",
                    crate::card::MAX_FRONT_MATTER_BYTES
                )));
            }
            let html =
                crate::card::render_readme(text).map_err(|e| Error::BadRequest(e.to_string()))?;
            readme = Some(ReadmeUpdate {
                front_matter: yaml.map(str::to_owned),
                html,
            });
        }
        entries.push(file_entry(path, bytes));
    }
    Ok(CheckedCommit { entries, readme })
}

/// A file's metadata: size, git blob sha1 (its ETag on the Hub) and SHA-256.
pub fn file_entry(path: &str, bytes: &[u8]) -> FileEntry {
    let mut git = Sha1::new();
    git.update(format!("blob {}\0", bytes.len()).as_bytes());
    git.update(bytes);
    FileEntry {
        path: path.to_owned(),
        size: bytes.len() as u64,
        oid: hex::encode(git.finalize()),
        sha256: hex::encode(Sha256::digest(bytes)),
    }
}

/// A commit id: 40 hex digits over the parent, the repo and the changed files, so two
/// commits never share one.
fn commit_id(parent: Option<&str>, repo: &str, files: &[FileEntry], at: Timestamp) -> String {
    let mut hash = Sha1::new();
    hash.update(parent.unwrap_or("").as_bytes());
    hash.update(repo.as_bytes());
    hash.update(at.millis().to_be_bytes());
    for file in files {
        hash.update(file.path.as_bytes());
        hash.update([0]);
        hash.update(file.oid.as_bytes());
    }
    hex::encode(hash.finalize())
}

/// The README's front matter as `cardData`, and the gate card built from it (`None` when
/// the repo has no `extra_gated_*` keys at all).
pub struct CardView {
    pub card_data: Option<Value>,
    pub gate_card: Result<Option<GateCard>, CardError>,
}

pub fn card_view(repo: &Repo) -> CardView {
    let Some(yaml) = repo.front_matter.as_deref() else {
        return CardView {
            card_data: None,
            gate_card: Ok(None),
        };
    };
    match crate::card::parse_front_matter(yaml) {
        Ok(card_data) => {
            let has_gate_keys = card_data
                .as_object()
                .is_some_and(|keys| keys.keys().any(|k| k.starts_with("extra_gated_")));
            let gate_card = if has_gate_keys {
                GateCard::from_card_data(&card_data).map(Some)
            } else {
                Ok(None)
            };
            CardView {
                card_data: Some(card_data),
                gate_card,
            }
        }
        Err(error) => CardView {
            card_data: None,
            gate_card: Err(error),
        },
    }
}

/// The setting of whether requesters are mailed about decisions (gatehouse's own; the Hub
/// has none).
pub const REQUESTER_EMAILS: &str = "gatedRequesterEmails";

/// Reads a settings body. Every key must be known and every value valid, or nothing at all
/// changes. `private` (0.x clients) and `visibility` (later ones) mean the same thing.
pub fn settings_update(body: &Map<String, Value>) -> Result<SettingsUpdate> {
    if body.is_empty() {
        return Err(Error::BadRequest(
            "At least one setting must be updated.".into(),
        ));
    }
    let bad = |message: String| Error::BadRequest(message);
    let mut update = SettingsUpdate::default();
    for (key, value) in body {
        match key.as_str() {
            "gated" => update.gate = Some(GateMode::from_json(value).map_err(bad)?),
            "visibility" => {
                let visibility = match value.as_str() {
                    Some("public") => Visibility::Public,
                    Some("private") => Visibility::Private,
                    Some("protected") => {
                        return Err(bad("'protected' visibility is not supported".into()));
                    }
                    _ => {
                        return Err(bad(format!(
                            "invalid value for 'visibility': {value}; expected \"public\" or \"private\""
                        )));
                    }
                };
                set_visibility(&mut update, visibility)?;
            }
            "private" => {
                let private = value.as_bool().ok_or_else(|| {
                    bad(format!(
                        "invalid value for 'private': {value}; expected true or false"
                    ))
                })?;
                set_visibility(&mut update, Visibility::from_private(private))?;
            }
            "gatedNotificationsMode" => {
                let mode = value.as_str().and_then(NotificationsMode::parse).ok_or_else(|| {
                    bad(format!(
                        "invalid value for 'gatedNotificationsMode': {value}; expected \"bulk\" or \"real-time\""
                    ))
                })?;
                update.notifications_mode = Some(mode);
            }
            "gatedNotificationsEmail" => {
                let email = match value {
                    Value::Null => None,
                    Value::String(text) if text.is_empty() => None,
                    Value::String(text) => Some(
                        Email::parse(text)
                            .map_err(|e| bad(format!("invalid gatedNotificationsEmail: {e}")))?,
                    ),
                    _ => {
                        return Err(bad(
                            "gatedNotificationsEmail must be a string or null".into()
                        ));
                    }
                };
                update.notifications_email = Some(email);
            }
            REQUESTER_EMAILS => {
                let on = value.as_bool().ok_or_else(|| {
                    bad(format!(
                        "invalid value for '{REQUESTER_EMAILS}': {value}; expected true or false"
                    ))
                })?;
                update.requester_emails = Some(on);
            }
            // 0.x clients send it; gatehouse stores files without Xet.
            "xetEnabled" if value == &Value::Bool(false) => {}
            "xetEnabled" => return Err(bad("Xet storage is not supported".into())),
            other => {
                let shown: String = other.chars().take(100).collect();
                return Err(bad(format!("unknown setting '{shown}'")));
            }
        }
    }
    Ok(update)
}

fn set_visibility(update: &mut SettingsUpdate, visibility: Visibility) -> Result<()> {
    match update.visibility {
        Some(existing) if existing != visibility => Err(Error::BadRequest(
            "'private' and 'visibility' disagree".into(),
        )),
        _ => {
            update.visibility = Some(visibility);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn file_ids_are_git_blob_sha1s() {
        let entry = file_entry("config.json", b"hello\n");
        assert_eq!(entry.oid, "ce013625030ba8dba906f756967f9e9ca394464a");
        assert_eq!(entry.size, 6);
        assert_eq!(entry.sha256.len(), 64);
    }

    #[tokio::test]
    async fn a_commit_of_more_files_than_one_transaction_holds_is_refused_and_changes_nothing() {
        use crate::blobs::LocalBlobs;
        use crate::domain::{ObjectId, RepoId, RepoType, User};
        use crate::store::SqliteStore;

        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let blobs = LocalBlobs::new(dir.path().join("blobs"));
        let owner = Name::parse("owner").unwrap();
        let user = User {
            id: ObjectId::random(),
            name: owner.clone(),
            fullname: "Owner".into(),
            email: None,
            created_at: Timestamp::now(),
        };
        store.create_user(&user).await.unwrap();
        let repo = RepoRef::new(RepoType::Model, RepoId::parse("owner/m").unwrap());
        let new = NewRepo {
            repo: repo.clone(),
            owner: None,
            visibility: Visibility::Public,
            gate: GateMode::Off,
            notifications_mode: NotificationsMode::Bulk,
            notifications_email: None,
            requester_emails: true,
        };
        let created = create_repo(&store, new).await.unwrap();
        let files = |n: usize| -> Vec<(String, Bytes)> {
            (0..n)
                .map(|i| (format!("f{i}.txt"), Bytes::from("x")))
                .collect()
        };
        let too_many = commit_files(&store, &blobs, &repo, files(MAX_FILES_PER_COMMIT + 1)).await;
        assert!(matches!(too_many, Err(Error::BadRequest(_))));
        assert_eq!(store.repo(&repo).await.unwrap().unwrap().sha, created.sha);
        assert!(store.files(&repo).await.unwrap().is_empty());
        let most = commit_files(&store, &blobs, &repo, files(MAX_FILES_PER_COMMIT)).await;
        assert_eq!(most.unwrap().repo, repo);
    }

    #[test]
    fn commit_ids_are_40_hex_and_change_with_content() {
        let at = Timestamp::from_millis(1);
        let a = commit_id(None, "org/m", &[file_entry("a", b"1")], at);
        let b = commit_id(None, "org/m", &[file_entry("a", b"2")], at);
        assert_eq!(a.len(), 40);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }

    fn parse(body: Value) -> Result<SettingsUpdate> {
        settings_update(body.as_object().unwrap())
    }

    #[test]
    fn the_client_settings_bodies_are_read() {
        let update = parse(json!({"gated": false, "visibility": "private"})).unwrap();
        assert_eq!(update.gate, Some(GateMode::Off));
        assert_eq!(update.visibility, Some(Visibility::Private));
        let old_client = parse(json!({"gated": "auto", "private": false})).unwrap();
        assert_eq!(old_client.visibility, Some(Visibility::Public));
    }

    #[test]
    fn requester_emails_are_turned_on_or_off_with_a_boolean_only() {
        let off = parse(json!({"gatedRequesterEmails": false})).unwrap();
        assert_eq!(off.requester_emails, Some(false));
        for bad in [json!("no"), json!(0), Value::Null] {
            let error = parse(json!({"gatedRequesterEmails": bad})).unwrap_err();
            assert!(
                error.to_string().contains("gatedRequesterEmails"),
                "{error}"
            );
        }
    }

    #[test]
    fn notification_settings_are_read_and_an_empty_email_clears_it() {
        let update = parse(json!({
            "gatedNotificationsMode": "real-time",
            "gatedNotificationsEmail": "team@example.com"
        }))
        .unwrap();
        assert_eq!(update.notifications_mode, Some(NotificationsMode::RealTime));
        assert!(update.notifications_email.unwrap().is_some());
        let cleared = parse(json!({"gatedNotificationsEmail": null})).unwrap();
        assert_eq!(cleared.notifications_email, Some(None));
    }

    #[test]
    fn unknown_keys_bad_values_and_empty_bodies_are_refused() {
        for body in [
            json!({}),
            json!({"gated": true}),
            json!({"gated": "false"}),
            json!({"visibility": "secret"}),
            json!({"private": "yes"}),
            json!({"private": true, "visibility": "public"}),
            json!({"gatedNotificationsMode": "weekly"}),
            json!({"gatedNotificationsEmail": "a@b.c\r\nBcc: x@y.z"}),
            json!({"owner": "me"}),
        ] {
            assert!(
                matches!(parse(body.clone()), Err(Error::BadRequest(_))),
                "{body}"
            );
        }
    }
}
