//! A YAML seed: users, organizations, tokens, repos and requests, loaded into a store.
//!
//! The whole seed is checked before the first write: every value valid, nothing named twice,
//! every user, organization and repo it refers to either in the seed or already in the store,
//! and nothing it creates already there. A bad seed is refused with every problem it has and
//! writes nothing. A write that still fails (the store is unreachable) says what was written.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use crate::blobs::BlobStore;
use crate::card::{MAX_FIELDS, MAX_LABEL_CHARS, MAX_TEXT_ANSWER_CHARS};
use crate::domain::{
    AccessRequest, Answers, AuditAction, AuditRecord, Contact, Email, GateMode, Name,
    NotificationsMode, ObjectId, OrgRole, Organization, Repo, RepoId, RepoRef, RepoType,
    RequestState, RequestStatus, Review, Timestamp, TokenDigest, TokenRole, TokenSecret, User,
    Visibility, check_fullname, check_token_name,
};
use crate::error::{Error, Result};
use crate::service::repos::{NewRepo, check_commit, commit_files, create_repo, repo_owner};
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
    /// Whether requesters are mailed about decisions (on by default).
    requesters: Option<bool>,
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

/// Why a seed did not load.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The seed was refused before anything was written.
    #[error("the seed was refused, and nothing of it was written: {0}")]
    Refused(Error),
    /// A write failed after the seed was checked: what was written before it stays.
    #[error(
        "the seed stopped at {failed}: {error}. Written before it, the first of each kind in \
         the seed's order: {written}; nothing after it"
    )]
    Interrupted {
        /// The record whose write failed.
        failed: String,
        /// How much of each section was written, in the seed's order.
        written: String,
        error: Error,
    },
}

impl Seed {
    pub fn parse(yaml: &str) -> Result<Seed> {
        serde_yaml::from_str(yaml).map_err(|e| Error::BadRequest(format!("invalid seed: {e}")))
    }

    /// Checks the whole seed against itself and against what `store` holds, then writes it.
    /// Returns the tokens created, so their secrets can be printed once.
    pub async fn load(
        self,
        store: &dyn Store,
        blobs: &dyn BlobStore,
    ) -> Result<Vec<SeededToken>, SeedError> {
        let plan = self.check(store).await.map_err(SeedError::Refused)?;
        plan.write(store, blobs).await
    }

    /// Every record the seed makes, built and checked; or every problem found, in one error.
    async fn check(self, store: &dyn Store) -> Result<Plan> {
        let mut checker = Checker {
            stored: Stored {
                store,
                empty: store.is_empty().await?,
            },
            problems: Problems::default(),
            now: Timestamp::now(),
            namespaces: HashSet::new(),
            contacts: HashMap::new(),
            owners: HashMap::new(),
        };
        let users = checker.users(self.users).await?;
        let orgs = checker.orgs(self.orgs).await?;
        let tokens = checker.tokens(self.tokens).await?;
        let repos = checker.repos(self.repos).await?;
        let requests = checker.requests(self.requests).await?;
        checker.problems.into_result()?;
        Ok(Plan {
            users,
            orgs,
            tokens,
            repos,
            requests,
        })
    }
}

/// Checks a seed section by section, in the order it is written, noting every problem.
struct Checker<'a> {
    stored: Stored<'a>,
    problems: Problems,
    now: Timestamp,
    /// The names of the seed's users and organizations, which share one namespace.
    namespaces: HashSet<Name>,
    /// The seed's users, as their requests show them.
    contacts: HashMap<Name, Contact>,
    /// The seed's repos: their owner where it is a valid one, and their notifications mode.
    owners: HashMap<RepoRef, (Option<Name>, NotificationsMode)>,
}

impl Checker<'_> {
    async fn users(&mut self, seeds: Vec<SeedUser>) -> Result<Vec<User>> {
        let mut users = Vec::with_capacity(seeds.len());
        for seed in seeds {
            let fullname = seed.fullname.unwrap_or_else(|| seed.name.to_string());
            if let Err(e) = check_fullname(&fullname) {
                self.problems.add(format!("user '{}': {e}", seed.name));
            }
            if !self.namespaces.insert(seed.name.clone()) {
                self.problems
                    .add(format!("user '{}' is in the seed twice", seed.name));
            } else if self.stored.namespace_taken(&seed.name).await? {
                self.problems
                    .add(format!("user '{}': the name is already taken", seed.name));
            }
            let contact = Contact {
                fullname: fullname.clone(),
                email: seed.email.clone(),
            };
            self.contacts.insert(seed.name.clone(), contact);
            users.push(User {
                id: ObjectId::random(),
                name: seed.name,
                fullname,
                email: seed.email,
                created_at: self.now,
            });
        }
        Ok(users)
    }

    async fn orgs(
        &mut self,
        seeds: Vec<SeedOrg>,
    ) -> Result<Vec<(Organization, Vec<(Name, OrgRole)>)>> {
        let mut orgs = Vec::with_capacity(seeds.len());
        for seed in seeds {
            let fullname = seed.fullname.unwrap_or_else(|| seed.name.to_string());
            if let Err(e) = check_fullname(&fullname) {
                self.problems
                    .add(format!("organization '{}': {e}", seed.name));
            }
            if !self.namespaces.insert(seed.name.clone()) {
                self.problems.add(format!(
                    "organization '{}': the name is already a user or organization of the seed",
                    seed.name
                ));
            } else if self.stored.namespace_taken(&seed.name).await? {
                self.problems.add(format!(
                    "organization '{}': the name is already taken",
                    seed.name
                ));
            }
            let mut members: Vec<(Name, OrgRole)> = Vec::with_capacity(seed.members.len());
            for member in seed.members {
                if members.iter().any(|(user, _)| *user == member.user) {
                    self.problems.add(format!(
                        "organization '{}' lists member '{}' twice",
                        seed.name, member.user
                    ));
                } else if !self.is_user(&member.user).await? {
                    self.problems.add(format!(
                        "organization '{}': member '{}' is no user of the seed or the store",
                        seed.name, member.user
                    ));
                }
                members.push((member.user, member.role));
            }
            let org = Organization {
                id: ObjectId::random(),
                name: seed.name,
                fullname,
                created_at: self.now,
            };
            orgs.push((org, members));
        }
        Ok(orgs)
    }

    async fn tokens(&mut self, seeds: Vec<SeedToken>) -> Result<Vec<SeededToken>> {
        let mut tokens = Vec::with_capacity(seeds.len());
        let mut names = HashSet::new();
        let mut digests = HashSet::new();
        for seed in seeds {
            let what = format!("token '{}' of '{}'", seed.name, seed.user);
            let secret = match &seed.value {
                Some(value) => match TokenSecret::parse(value) {
                    Ok(secret) => secret,
                    Err(e) => {
                        self.problems.add(format!("{what}: {e}"));
                        continue;
                    }
                },
                None => TokenSecret::generate(),
            };
            if let Err(e) = check_token_name(&seed.name) {
                self.problems.add(format!("{what}: {e}"));
            }
            if !self.is_user(&seed.user).await? {
                self.problems.add(format!(
                    "{what}: '{}' is no user of the seed or the store",
                    seed.user
                ));
            }
            if !names.insert((seed.user.clone(), seed.name.clone())) {
                self.problems.add(format!("{what} is in the seed twice"));
            }
            let digest = secret.digest();
            if !digests.insert(digest.to_hex()) {
                self.problems
                    .add(format!("{what}: another seed token has the same value"));
            } else if self.stored.token_taken(&digest).await? {
                self.problems
                    .add(format!("{what}: a stored token has the same value"));
            }
            tokens.push(SeededToken {
                user: seed.user,
                name: seed.name,
                role: seed.role,
                secret,
            });
        }
        Ok(tokens)
    }

    async fn repos(
        &mut self,
        seeds: Vec<SeedRepo>,
    ) -> Result<Vec<(NewRepo, Vec<(String, Bytes)>)>> {
        let mut repos = Vec::with_capacity(seeds.len());
        for seed in seeds {
            let repo = RepoRef::new(seed.repo_type, seed.id);
            let owner = match repo_owner(&repo, seed.owner.as_ref()) {
                Ok(owner) => {
                    let known = self.namespaces.contains(&owner)
                        || self.stored.namespace_taken(&owner).await?;
                    if !known {
                        self.problems.add(format!(
                            "{repo}: its owner '{owner}' is no user or organization of the seed or the store"
                        ));
                    }
                    Some(owner)
                }
                Err(e) => {
                    self.problems.add(e.to_string());
                    None
                }
            };
            let twice = self.owners.contains_key(&repo);
            if twice {
                self.problems.add(format!("{repo} is in the seed twice"));
            } else if self.stored.repo(&repo).await?.is_some() {
                self.problems.add(format!("{repo} already exists"));
            }
            let notifications = seed.notifications.unwrap_or(SeedNotifications {
                mode: None,
                email: None,
                requesters: None,
            });
            let notifications_mode = match notifications.mode.as_deref() {
                None => NotificationsMode::default(),
                Some("daily") => NotificationsMode::Bulk,
                Some("realtime") => NotificationsMode::RealTime,
                Some(text) => NotificationsMode::parse(text).unwrap_or_else(|| {
                    self.problems.add(format!(
                        "{repo}: notifications mode '{text}' is not daily or realtime"
                    ));
                    NotificationsMode::default()
                }),
            };
            if !twice {
                self.owners
                    .insert(repo.clone(), (owner, notifications_mode));
            }
            let mut files: Vec<(String, Bytes)> = seed
                .files
                .into_iter()
                .map(|(path, text)| (path, Bytes::from(text)))
                .collect();
            if let Some(readme) = seed.readme {
                if files.iter().any(|(path, _)| path == "README.md") {
                    self.problems.add(format!(
                        "{repo}: README.md is given both as readme and among its files"
                    ));
                }
                files.push(("README.md".into(), Bytes::from(readme)));
            }
            if let Err(e) = check_commit(&files) {
                self.problems.add(format!("{repo}: {e}"));
            }
            let new = NewRepo {
                repo,
                owner: seed.owner,
                visibility: Visibility::from_private(seed.private),
                gate: seed.gated,
                notifications_mode,
                notifications_email: notifications.email,
                requester_emails: notifications.requesters.unwrap_or(true),
            };
            repos.push((new, files));
        }
        Ok(repos)
    }

    async fn requests(&mut self, seeds: Vec<SeedRequest>) -> Result<Vec<SeededRequest>> {
        let mut requests = Vec::with_capacity(seeds.len());
        let mut requesters = HashSet::new();
        for seed in seeds {
            let repo = RepoRef::new(seed.repo_type, seed.repo);
            let what = format!("the request of '{}' on {repo}", seed.user);
            let in_seed = self.owners.contains_key(&repo);
            let repo_of_request = match self.owners.get(&repo) {
                Some((owner, mode)) => owner.clone().map(|owner| (owner, *mode)),
                None => match self.stored.repo(&repo).await? {
                    Some(stored) => Some((stored.owner, stored.notifications_mode)),
                    None => {
                        self.problems
                            .add(format!("{what}: {repo} is not in the seed or the store"));
                        None
                    }
                },
            };
            let contact = match self.contacts.get(&seed.user) {
                Some(contact) => Some(contact.clone()),
                None => self.stored.user(&seed.user).await?.map(|user| Contact {
                    fullname: user.fullname,
                    email: user.email,
                }),
            };
            if contact.is_none() {
                self.problems.add(format!(
                    "{what}: '{}' is no user of the seed or the store",
                    seed.user
                ));
            }
            if !requesters.insert((repo.clone(), seed.user.clone())) {
                self.problems.add(format!("{what} is in the seed twice"));
            } else if !in_seed && self.stored.has_request(&repo, &seed.user).await? {
                self.problems
                    .add(format!("{what}: the store already holds one"));
            }
            let at = match seed.time.as_deref() {
                None => self.now,
                Some(text) => Timestamp::parse(text).unwrap_or_else(|| {
                    self.problems.add(format!(
                        "{what}: time '{text}' is not a UTC time such as 2024-05-01T10:00:00.000Z"
                    ));
                    self.now
                }),
            };
            let answers = check_answers(&what, seed.fields, &mut self.problems);
            let (Some((owner, notifications)), Some(contact)) = (repo_of_request, contact) else {
                continue;
            };
            let review = Review { by: owner, at };
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
            let request = AccessRequest {
                id: ObjectId::random(),
                repo,
                user: seed.user,
                contact,
                answers,
                state,
                created_at: at,
                updated_at: at,
                version: 1,
            };
            let audit = AuditRecord::created(AuditAction::Requested, None, &request, at);
            requests.push(SeededRequest {
                request,
                audit,
                notifications,
            });
        }
        Ok(requests)
    }

    /// A user of the seed or of the store.
    async fn is_user(&self, name: &Name) -> Result<bool> {
        Ok(self.contacts.contains_key(name) || self.stored.user(name).await?.is_some())
    }
}

/// A seed request's answers as they will be stored, within the limits a form has, so the
/// request fits a store record: strings (tab and line breaks allowed) or `true`.
fn check_answers(
    what: &str,
    fields: serde_json::Map<String, Value>,
    problems: &mut Problems,
) -> Answers {
    if fields.len() > MAX_FIELDS {
        problems.add(format!(
            "{what}: {} answers, but a form has at most {MAX_FIELDS} fields",
            fields.len()
        ));
    }
    let text_problem = |text: &str, max: usize| {
        if text.chars().count() > max {
            Some(format!("is longer than {max} characters"))
        } else if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            Some("holds control characters".to_owned())
        } else {
            None
        }
    };
    let mut answers = Vec::with_capacity(fields.len());
    for (index, (label, answer)) in fields.into_iter().enumerate() {
        let field = index + 1;
        if let Some(problem) = text_problem(&label, MAX_LABEL_CHARS) {
            problems.add(format!("{what}: the label of answer {field} {problem}"));
        }
        match &answer {
            Value::String(text) => {
                if let Some(problem) = text_problem(text, MAX_TEXT_ANSWER_CHARS) {
                    problems.add(format!("{what}: answer {field} {problem}"));
                }
            }
            Value::Bool(true) => {}
            other => problems.add(format!(
                "{what}: answer {field} must be a string or true, not {other}"
            )),
        }
        answers.push((label, answer));
    }
    Answers(answers)
}

/// The problems of a seed, all reported at once.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    /// At most this many are listed; the rest are counted.
    const LISTED: usize = 20;

    fn add(&mut self, problem: String) {
        self.0.push(problem);
    }

    fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let listed = &self.0[..self.0.len().min(Self::LISTED)];
        let mut message = listed.join("; ");
        if self.0.len() > Self::LISTED {
            message.push_str(&format!("; and {} more", self.0.len() - Self::LISTED));
        }
        Err(Error::BadRequest(message))
    }
}

/// What the store already holds. An empty store holds nothing, so it is not asked.
struct Stored<'a> {
    store: &'a dyn Store,
    empty: bool,
}

impl Stored<'_> {
    async fn user(&self, name: &Name) -> Result<Option<User>> {
        if self.empty {
            return Ok(None);
        }
        Ok(self.store.user(name).await?)
    }

    async fn namespace_taken(&self, name: &Name) -> Result<bool> {
        if self.empty {
            return Ok(false);
        }
        Ok(
            self.store.user(name).await?.is_some()
                || self.store.organization(name).await?.is_some(),
        )
    }

    async fn token_taken(&self, digest: &TokenDigest) -> Result<bool> {
        if self.empty {
            return Ok(false);
        }
        Ok(self.store.token(digest).await?.is_some())
    }

    async fn repo(&self, repo: &RepoRef) -> Result<Option<Repo>> {
        if self.empty {
            return Ok(None);
        }
        Ok(self.store.repo(repo).await?)
    }

    async fn has_request(&self, repo: &RepoRef, user: &Name) -> Result<bool> {
        if self.empty {
            return Ok(false);
        }
        Ok(self.store.access_request(repo, user).await?.is_some())
    }
}

/// A checked seed: every record to write, in the order they are written.
struct Plan {
    users: Vec<User>,
    orgs: Vec<(Organization, Vec<(Name, OrgRole)>)>,
    tokens: Vec<SeededToken>,
    repos: Vec<(NewRepo, Vec<(String, Bytes)>)>,
    requests: Vec<SeededRequest>,
}

/// A request to write, with its repo's notifications mode (as the seed sets it, or as the
/// store holds it).
struct SeededRequest {
    request: AccessRequest,
    audit: AuditRecord,
    notifications: NotificationsMode,
}

impl Plan {
    async fn write(
        self,
        store: &dyn Store,
        blobs: &dyn BlobStore,
    ) -> Result<Vec<SeededToken>, SeedError> {
        let mut progress = Progress::of(&self);
        for user in &self.users {
            store
                .create_user(user)
                .await
                .map_err(|e| progress.stopped(format!("user '{}'", user.name), e))?;
            progress.done(Section::Users);
        }
        for (org, members) in &self.orgs {
            store
                .create_organization(org)
                .await
                .map_err(|e| progress.stopped(format!("organization '{}'", org.name), e))?;
            progress.done(Section::Organizations);
            for (user, role) in members {
                store
                    .add_member(&org.name, user, *role, Timestamp::now())
                    .await
                    .map_err(|e| {
                        let what = format!("the membership of '{user}' in '{}'", org.name);
                        progress.stopped(what, e)
                    })?;
                progress.done(Section::Memberships);
            }
        }
        for token in &self.tokens {
            let record = TokenRecord {
                user: token.user.clone(),
                role: token.role,
                display_name: token.name.clone(),
                digest: token.secret.digest(),
                created_at: Timestamp::now(),
            };
            store.create_token(&record).await.map_err(|e| {
                progress.stopped(format!("token '{}' of '{}'", token.name, token.user), e)
            })?;
            progress.done(Section::Tokens);
        }
        for (new, files) in self.repos {
            let repo = new.repo.clone();
            create_repo(store, new)
                .await
                .map_err(|e| progress.stopped(repo.to_string(), e))?;
            if !files.is_empty() {
                commit_files(store, blobs, &repo, files)
                    .await
                    .map_err(|e| {
                        let what = format!("the files of {repo} (the repo itself was created)");
                        progress.stopped(what, e)
                    })?;
            }
            progress.done(Section::Repos);
        }
        for SeededRequest {
            request,
            audit,
            notifications,
        } in &self.requests
        {
            let written = store.insert_request(request, audit, *notifications).await;
            written.map_err(|e| {
                let what = format!("the request of '{}' on {}", request.user, request.repo);
                progress.stopped(what, e)
            })?;
            progress.done(Section::Requests);
        }
        Ok(self.tokens)
    }
}

#[derive(Clone, Copy)]
enum Section {
    Users,
    Organizations,
    Memberships,
    Tokens,
    Repos,
    Requests,
}

impl Section {
    const ALL: [Section; 6] = [
        Section::Users,
        Section::Organizations,
        Section::Memberships,
        Section::Tokens,
        Section::Repos,
        Section::Requests,
    ];

    fn name(self) -> &'static str {
        match self {
            Section::Users => "users",
            Section::Organizations => "organizations",
            Section::Memberships => "memberships",
            Section::Tokens => "tokens",
            Section::Repos => "repos",
            Section::Requests => "requests",
        }
    }
}

/// How many records of each section are written so far, of how many.
struct Progress {
    written: [usize; 6],
    total: [usize; 6],
}

impl Progress {
    fn of(plan: &Plan) -> Self {
        let members = plan.orgs.iter().map(|(_, members)| members.len()).sum();
        Self {
            written: [0; 6],
            total: [
                plan.users.len(),
                plan.orgs.len(),
                members,
                plan.tokens.len(),
                plan.repos.len(),
                plan.requests.len(),
            ],
        }
    }

    fn done(&mut self, section: Section) {
        self.written[section as usize] += 1;
    }

    fn stopped(&self, failed: String, error: impl Into<Error>) -> SeedError {
        SeedError::Interrupted {
            failed,
            written: self.to_string(),
            error: error.into(),
        }
    }
}

/// "2 of 3 users, 0 of 1 organizations, …", leaving out sections the seed has nothing in.
impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sections: Vec<String> = Section::ALL
            .iter()
            .filter(|section| self.total[**section as usize] > 0)
            .map(|section| {
                let i = *section as usize;
                format!(
                    "{} of {} {}",
                    self.written[i],
                    self.total[i],
                    section.name()
                )
            })
            .collect();
        f.write_str(&sections.join(", "))
    }
}

/// A fresh embedded store in a temporary dir with `yaml` loaded, its blobs under `DIR/blobs`;
/// for the tests of the layers above the store.
#[cfg(test)]
pub(crate) async fn seeded_sqlite(yaml: &str) -> (crate::store::SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::SqliteStore::open(dir.path()).unwrap();
    let blobs = crate::blobs::LocalBlobs::new(dir.path().join("blobs"));
    Seed::parse(yaml)
        .unwrap()
        .load(&store, &blobs)
        .await
        .unwrap();
    (store, dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blobs::LocalBlobs;
    use crate::store::SqliteStore;

    const GOOD: &str = r#"
users: [{name: alice, fullname: Alice A, email: alice@example.com}, {name: bob}]
orgs: [{name: org, fullname: Org, members: [{user: alice, role: admin}]}]
tokens: [{user: alice, role: write, name: ci, value: hf_alice_write_00000000}, {user: bob, role: read, name: cli}]
repos:
  - {id: org/m, gated: manual, notifications: {mode: realtime, email: t@example.com},
     readme: "---\nlicense: mit\n---\n", files: {config.json: "{}"}}
  - {id: org/d, type: dataset, gated: false, private: true}
requests: [{repo: org/m, user: bob, status: pending, fields: {Company: ACME, "I agree": true}, time: "2024-05-01T10:00:00.000Z"}]
"#;

    /// A store in a temporary directory, and blobs beside it.
    fn temp_store() -> (SqliteStore, LocalBlobs, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let blobs = LocalBlobs::new(dir.path().join("blobs"));
        (store, blobs, dir)
    }

    async fn load(
        store: &SqliteStore,
        blobs: &LocalBlobs,
        yaml: &str,
    ) -> Result<Vec<SeededToken>, SeedError> {
        Seed::parse(yaml).unwrap().load(store, blobs).await
    }

    fn name(text: &str) -> Name {
        Name::parse(text).unwrap()
    }

    fn repo(id: &str) -> RepoRef {
        RepoRef::new(RepoType::Model, RepoId::parse(id).unwrap())
    }

    #[tokio::test]
    async fn a_seed_with_every_section_loads() {
        let (store, blobs, _dir) = temp_store();
        let tokens = load(&store, &blobs, GOOD).await.unwrap();
        assert_eq!(tokens[0].secret.expose(), "hf_alice_write_00000000");
        assert!(tokens[1].secret.expose().starts_with("hf_"));
        let members = store.members(&name("org")).await.unwrap();
        assert_eq!(
            members
                .iter()
                .map(|m| (m.user.name.as_str(), m.role))
                .collect::<Vec<_>>(),
            [("alice", OrgRole::Admin)]
        );
        let m = store.repo(&repo("org/m")).await.unwrap().unwrap();
        assert_eq!(
            (m.gate, m.notifications_mode),
            (GateMode::Manual, NotificationsMode::RealTime)
        );
        assert_eq!(store.files(&m.repo).await.unwrap().len(), 2);
        let request = store
            .access_request(&m.repo, &name("bob"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(request.contact.fullname, "bob");
        assert_eq!(
            request.created_at,
            Timestamp::parse("2024-05-01T10:00:00.000Z").unwrap()
        );
        let dataset = RepoRef::new(RepoType::Dataset, RepoId::parse("org/d").unwrap());
        assert!(
            store
                .repo(&dataset)
                .await
                .unwrap()
                .unwrap()
                .visibility
                .is_private()
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_when_parsed() {
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
    }

    #[tokio::test]
    async fn a_bad_seed_is_refused_with_its_problem_and_writes_nothing() {
        let users = "users: [{name: alice}, {name: bob}]\n";
        let repo = "repos: [{id: alice/m}]\n";
        let huge_card = format!(
            "{users}repos: [{{id: alice/m, readme: \"---\\nlicense: '{}'\\n---\\n\"}}]\n",
            "x".repeat(crate::card::MAX_FRONT_MATTER_BYTES)
        );
        let long_answer = format!(
            "{users}{repo}requests: [{{repo: alice/m, user: bob, status: pending, fields: {{Essay: {}}}}}]\n",
            "x".repeat(MAX_TEXT_ANSWER_CHARS + 1)
        );
        let long_fullname = format!("users: [{{name: alice, fullname: {}}}]\n", "x".repeat(201));
        let long_token_name = format!(
            "{users}tokens: [{{user: alice, role: read, name: {}}}]\n",
            "x".repeat(201)
        );
        let cases: Vec<(String, &str)> = vec![
            (
                format!("{users}tokens: [{{user: ghost, role: read, name: x}}]\n"),
                "'ghost' is no user",
            ),
            (
                format!("{users}requests: [{{repo: alice/nope, user: bob, status: pending}}]\n"),
                "model alice/nope is not in the seed or the store",
            ),
            (
                format!(
                    "{users}{repo}requests: [{{repo: alice/m, user: ghost, status: accepted}}]\n"
                ),
                "'ghost' is no user",
            ),
            (
                "users: [{name: alice}, {name: bob}, {name: alice}]\n".into(),
                "user 'alice' is in the seed twice",
            ),
            (
                format!("{users}orgs: [{{name: bob}}]\n"),
                "organization 'bob': the name is already a user",
            ),
            (
                format!("{users}orgs: [{{name: org, members: [{{user: ghost, role: read}}]}}]\n"),
                "member 'ghost' is no user",
            ),
            (
                format!(
                    "{users}orgs: [{{name: org, members: [{{user: bob, role: read}}, {{user: bob, role: admin}}]}}]\n"
                ),
                "lists member 'bob' twice",
            ),
            (
                format!(
                    "{users}tokens: [{{user: bob, role: read, name: x}}, {{user: bob, role: write, name: x}}]\n"
                ),
                "token 'x' of 'bob' is in the seed twice",
            ),
            (
                format!(
                    "{users}tokens: [{{user: alice, role: read, name: a, value: hf_same_value_0000000}}, {{user: bob, role: read, name: b, value: hf_same_value_0000000}}]\n"
                ),
                "same value",
            ),
            (
                format!("{users}tokens: [{{user: alice, role: read, name: a, value: short}}]\n"),
                "20 to 200 printable",
            ),
            (
                format!("{users}repos: [{{id: ghost/m}}]\n"),
                "its owner 'ghost' is no user or organization",
            ),
            (
                format!("{users}repos: [{{id: gpt2}}]\n"),
                "has no namespace",
            ),
            (
                format!("{users}repos: [{{id: alice/m}}, {{id: alice/m}}]\n"),
                "model alice/m is in the seed twice",
            ),
            (
                format!("{users}repos: [{{id: alice/m, notifications: {{mode: hourly}}}}]\n"),
                "'hourly' is not daily or realtime",
            ),
            (
                format!("{users}repos: [{{id: alice/m, files: {{../x: y}}}}]\n"),
                "not a valid file path",
            ),
            (
                format!("{users}repos: [{{id: alice/m, readme: a, files: {{README.md: b}}}}]\n"),
                "both as readme and among its files",
            ),
            (huge_card, "front matter is larger than"),
            (
                format!(
                    "{users}{repo}requests: [{{repo: alice/m, user: bob, status: pending}}, {{repo: alice/m, user: bob, status: accepted}}]\n"
                ),
                "is in the seed twice",
            ),
            (
                format!(
                    "{users}{repo}requests: [{{repo: alice/m, user: bob, status: pending, time: yesterday}}]\n"
                ),
                "time 'yesterday'",
            ),
            (
                format!(
                    "{users}{repo}requests: [{{repo: alice/m, user: bob, status: pending, fields: {{Age: 42}}}}]\n"
                ),
                "must be a string or true, not 42",
            ),
            (
                format!(
                    "{users}{repo}requests: [{{repo: alice/m, user: bob, status: pending, fields: {{Bell: \"\\a\"}}}}]\n"
                ),
                "holds control characters",
            ),
            (long_answer, "is longer than 1000 characters"),
            (long_fullname, "a full name is at most 200 characters"),
            (long_token_name, "a token name is at most 200 characters"),
        ];
        for (yaml, expected) in cases {
            let (store, blobs, _dir) = temp_store();
            let error = load(&store, &blobs, &yaml).await.unwrap_err();
            assert!(matches!(error, SeedError::Refused(_)), "{yaml}: {error:?}");
            let message = error.to_string();
            assert!(message.contains("nothing of it was written"), "{message}");
            assert!(message.contains(expected), "{yaml}: {message}");
            assert!(store.is_empty().await.unwrap(), "{yaml} wrote something");
        }
    }

    #[tokio::test]
    async fn every_problem_of_a_seed_is_reported_at_once() {
        let (store, blobs, _dir) = temp_store();
        let yaml =
            "users: [{name: alice}, {name: alice}]\ntokens: [{user: ghost, role: read, name: x}]\n";
        let message = load(&store, &blobs, yaml).await.unwrap_err().to_string();
        assert!(
            message.contains("user 'alice' is in the seed twice"),
            "{message}"
        );
        assert!(message.contains("'ghost' is no user"), "{message}");

        let crowd = format!("users: [{}]\n", vec!["{name: alice}"; 26].join(", "));
        let message = load(&store, &blobs, &crowd).await.unwrap_err().to_string();
        assert_eq!(
            message.matches("is in the seed twice").count(),
            20,
            "{message}"
        );
        assert!(message.ends_with("; and 5 more"), "{message}");
    }

    #[tokio::test]
    async fn a_seed_may_refer_to_what_the_store_holds_but_not_duplicate_it() {
        let (store, blobs, _dir) = temp_store();
        load(&store, &blobs, GOOD).await.unwrap();

        let builds_on_it = r#"
users: [{name: carol}]
tokens: [{user: alice, role: read, name: laptop}]
repos: [{id: org/m2}]
requests:
  - {repo: org/m, user: alice, status: accepted}
  - {repo: org/m2, user: bob, status: rejected}
"#;
        load(&store, &blobs, builds_on_it).await.unwrap();
        let accepted = store
            .access_request(&repo("org/m"), &name("alice"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(accepted.contact.fullname, "Alice A");
        assert_eq!(
            accepted.state.review().map(|r| r.by.clone()),
            Some(name("org"))
        );
        assert!(
            store
                .access_request(&repo("org/m2"), &name("bob"))
                .await
                .unwrap()
                .is_some()
        );

        let duplicates = r#"
users: [{name: dora}, {name: alice}]
orgs: [{name: org}]
tokens: [{user: dora, role: read, name: again, value: hf_alice_write_00000000}]
repos: [{id: org/d, type: dataset}]
requests: [{repo: org/m, user: bob, status: pending}]
"#;
        let message = load(&store, &blobs, duplicates)
            .await
            .unwrap_err()
            .to_string();
        for expected in [
            "user 'alice': the name is already taken",
            "organization 'org': the name is already taken",
            "a stored token has the same value",
            "dataset org/d already exists",
            "the request of 'bob' on model org/m: the store already holds one",
        ] {
            assert!(message.contains(expected), "{expected}: {message}");
        }
        assert_eq!(store.user(&name("dora")).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_write_that_fails_after_the_check_says_what_was_written() {
        let (store, _, dir) = temp_store();
        // Blobs cannot be written under a regular file: the second repo's files fail.
        let not_a_dir = dir.path().join("not-a-dir");
        std::fs::write(&not_a_dir, "").unwrap();
        let blobs = LocalBlobs::new(&not_a_dir);
        let yaml = r#"
users: [{name: alice}, {name: bob}]
orgs: [{name: org, members: [{user: alice, role: admin}]}]
tokens: [{user: bob, role: read, name: cli}]
repos: [{id: org/a}, {id: org/b, files: {config.json: "{}"}}]
requests: [{repo: org/a, user: bob, status: pending}]
"#;
        let error = load(&store, &blobs, yaml).await.unwrap_err();
        let SeedError::Interrupted {
            failed, written, ..
        } = &error
        else {
            panic!("{error:?}");
        };
        assert_eq!(
            failed,
            "the files of model org/b (the repo itself was created)"
        );
        assert_eq!(
            written,
            "2 of 2 users, 1 of 1 organizations, 1 of 1 memberships, 1 of 1 tokens, 1 of 2 repos, 0 of 1 requests"
        );
        assert!(error.to_string().contains("nothing after it"), "{error}");
        assert!(store.repo(&repo("org/b")).await.unwrap().is_some());
        assert!(
            store
                .access_request(&repo("org/a"), &name("bob"))
                .await
                .unwrap()
                .is_none()
        );
    }
}
