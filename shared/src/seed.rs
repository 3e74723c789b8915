//! A YAML seed: users, organizations, tokens, repos and requests, loaded into an empty store.
//! The whole file is read and checked before anything is written.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use crate::blobs::BlobStore;
use crate::domain::{
    AccessRequest, Answers, AuditAction, AuditRecord, Contact, Email, GateMode, Name,
    NotificationsMode, ObjectId, OrgRole, Organization, RepoId, RepoRef, RepoType, RequestState,
    RequestStatus, Review, Timestamp, TokenRole, TokenSecret, User, Visibility,
};
use crate::error::{Error, Result};
use crate::service::repos::{NewRepo, commit_files, create_repo};
use crate::store::{Store, TokenRecord};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    users: Vec<SeedUser>,
    #[serde(default)]
    orgs: Vec<SeedOrg>,
    #[serde(default)]
    tokens: Vec<SeedToken>,
    #[serde(default)]
    repos: Vec<SeedRepo>,
    #[serde(default)]
    requests: Vec<SeedRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedUser {
    name: Name,
    fullname: Option<String>,
    email: Option<Email>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedOrg {
    name: Name,
    fullname: Option<String>,
    #[serde(default)]
    members: Vec<SeedMember>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedMember {
    user: Name,
    role: OrgRole,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedToken {
    user: Name,
    role: TokenRole,
    name: String,
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedRepo {
    id: RepoId,
    #[serde(rename = "type", default = "model")]
    repo_type: RepoType,
    #[serde(default)]
    gated: GateMode,
    #[serde(default)]
    private: bool,
    /// Only for one-segment ids, which have no namespace.
    owner: Option<Name>,
    notifications: Option<SeedNotifications>,
    readme: Option<String>,
    #[serde(default)]
    files: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedNotifications {
    mode: Option<String>,
    email: Option<Email>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedRequest {
    repo: RepoId,
    #[serde(rename = "type", default = "model")]
    repo_type: RepoType,
    user: Name,
    status: RequestStatus,
    #[serde(default)]
    fields: serde_json::Map<String, Value>,
    time: Option<String>,
}

fn model() -> RepoType {
    RepoType::Model
}

/// A token the seed created, with the secret to show once.
#[derive(Debug)]
pub struct SeededToken {
    pub user: Name,
    pub name: String,
    pub role: TokenRole,
    pub secret: TokenSecret,
}

impl Seed {
    pub fn parse(yaml: &str) -> Result<Seed> {
        serde_yaml::from_str(yaml).map_err(|e| Error::BadRequest(format!("invalid seed: {e}")))
    }

    /// Loads the seed into `store`, which the caller has checked is empty. Returns the
    /// tokens created, so their secrets can be printed once.
    pub async fn load(self, store: &dyn Store, blobs: &dyn BlobStore) -> Result<Vec<SeededToken>> {
        let tokens = self.checked_tokens()?;
        let now = Timestamp::now();
        for user in &self.users {
            store
                .create_user(&User {
                    id: ObjectId::random(),
                    name: user.name.clone(),
                    fullname: user
                        .fullname
                        .clone()
                        .unwrap_or_else(|| user.name.to_string()),
                    email: user.email.clone(),
                    created_at: now,
                })
                .await?;
        }
        for org in &self.orgs {
            store
                .create_organization(&Organization {
                    id: ObjectId::random(),
                    name: org.name.clone(),
                    fullname: org.fullname.clone().unwrap_or_else(|| org.name.to_string()),
                    created_at: now,
                })
                .await?;
            for member in &org.members {
                store
                    .add_member(&org.name, &member.user, member.role, Timestamp::now())
                    .await?;
            }
        }
        for token in &tokens {
            store
                .create_token(&TokenRecord {
                    user: token.user.clone(),
                    role: token.role,
                    display_name: token.name.clone(),
                    digest: token.secret.digest(),
                    created_at: now,
                })
                .await?;
        }
        for repo in self.repos {
            load_repo(store, blobs, repo).await?;
        }
        for request in self.requests {
            load_request(store, request).await?;
        }
        Ok(tokens)
    }

    fn checked_tokens(&self) -> Result<Vec<SeededToken>> {
        self.tokens
            .iter()
            .map(|token| {
                let secret = match &token.value {
                    Some(value) => TokenSecret::parse(value).map_err(|e| {
                        Error::BadRequest(format!("invalid seed token '{}': {e}", token.name))
                    })?,
                    None => TokenSecret::generate(),
                };
                Ok(SeededToken {
                    user: token.user.clone(),
                    name: token.name.clone(),
                    role: token.role,
                    secret,
                })
            })
            .collect()
    }
}

async fn load_repo(store: &dyn Store, blobs: &dyn BlobStore, seed: SeedRepo) -> Result<()> {
    let repo = RepoRef::new(seed.repo_type, seed.id);
    let notifications = seed.notifications.unwrap_or(SeedNotifications {
        mode: None,
        email: None,
    });
    let notifications_mode = match notifications.mode.as_deref() {
        None => NotificationsMode::default(),
        Some("daily") => NotificationsMode::Bulk,
        Some("realtime") => NotificationsMode::RealTime,
        Some(text) => NotificationsMode::parse(text).ok_or_else(|| {
            Error::BadRequest(format!(
                "invalid seed notifications mode '{text}' for {repo}: expected daily or realtime"
            ))
        })?,
    };
    create_repo(
        store,
        NewRepo {
            repo: repo.clone(),
            owner: seed.owner,
            visibility: Visibility::from_private(seed.private),
            gate: seed.gated,
            notifications_mode,
            notifications_email: notifications.email,
        },
    )
    .await?;
    let mut files: Vec<(String, Bytes)> = seed
        .files
        .into_iter()
        .map(|(path, text)| (path, Bytes::from(text)))
        .collect();
    if let Some(readme) = seed.readme {
        files.push(("README.md".into(), Bytes::from(readme)));
    }
    if !files.is_empty() {
        commit_files(store, blobs, &repo, files).await?;
    }
    Ok(())
}

async fn load_request(store: &dyn Store, seed: SeedRequest) -> Result<()> {
    let repo = RepoRef::new(seed.repo_type, seed.repo);
    let stored = store
        .repo(&repo)
        .await?
        .ok_or_else(|| Error::BadRequest(format!("seed request names unknown repo {repo}")))?;
    let user = store.user(&seed.user).await?.ok_or_else(|| {
        Error::BadRequest(format!("seed request names unknown user '{}'", seed.user))
    })?;
    let at = match seed.time.as_deref() {
        Some(text) => Timestamp::parse(text).ok_or_else(|| {
            Error::BadRequest(format!("invalid seed request time '{text}': expected …Z"))
        })?,
        None => Timestamp::now(),
    };
    let review = Review {
        by: stored.owner.clone(),
        at,
    };
    let state = match seed.status {
        RequestStatus::Pending => RequestState::Pending,
        RequestStatus::Accepted => RequestState::Accepted {
            review: Some(review),
        },
        RequestStatus::Rejected => RequestState::Rejected {
            review,
            reason: None,
        },
    };
    let answers = seed
        .fields
        .into_iter()
        .map(|(label, answer)| match answer {
            Value::String(_) | Value::Bool(true) => Ok((label, answer)),
            other => Err(Error::BadRequest(format!(
                "seed answer '{label}' must be a string or true, not {other}"
            ))),
        })
        .collect::<Result<Vec<_>>>()?;
    let request = AccessRequest {
        id: ObjectId::random(),
        repo,
        user: user.name.clone(),
        contact: Contact {
            fullname: user.fullname,
            email: user.email,
        },
        answers: Answers(answers),
        state,
        created_at: at,
        updated_at: at,
        version: 1,
    };
    let audit = AuditRecord::created(AuditAction::Requested, None, &request, at);
    store.insert_request(&request, &audit).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_with_every_section_parses() {
        let seed = Seed::parse(
            r#"
users: [{name: alice, fullname: Alice A, email: alice@example.com}]
orgs: [{name: org, fullname: Org, members: [{user: alice, role: admin}]}]
tokens: [{user: alice, role: write, name: ci, value: hf_alice_write_00000000}]
repos:
  - {id: org/m, gated: manual, notifications: {mode: realtime, email: t@example.com},
     readme: "---\nlicense: mit\n---\n", files: {config.json: "{}"}}
  - {id: org/d, type: dataset, gated: false, private: true}
requests: [{repo: org/m, user: alice, status: pending, fields: {Company: ACME}, time: "2024-05-01T10:00:00.000Z"}]
"#,
        )
        .unwrap();
        assert_eq!(seed.repos[0].gated, GateMode::Manual);
        assert_eq!(seed.repos[1].repo_type, RepoType::Dataset);
        assert_eq!(
            seed.checked_tokens().unwrap()[0].secret.expose(),
            "hf_alice_write_00000000"
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_before_anything_is_written() {
        for bad in [
            "userz: []",
            "users: [{name: 'bad name'}]",
            "repos: [{id: org/m, gated: yes}]",
            "repos: [{id: org/m, type: kernel}]",
            "tokens: [{user: a, role: admin, name: x}]",
            "requests: [{repo: org/m, user: a, status: maybe}]",
        ] {
            assert!(Seed::parse(bad).is_err(), "{bad}");
        }
        let short_token = Seed::parse("tokens: [{user: a, role: read, name: x, value: short}]");
        assert!(short_token.unwrap().checked_tokens().is_err());
    }
}
