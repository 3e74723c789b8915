//! The store contract: what every [`Store`] implementation must do, as test cases any of them
//! can run. Each case takes a fresh, empty store and panics on the first broken promise.
//!
//! Run them all with [`store_contract_tests!`](crate::store_contract_tests).

use crate::domain::{
    AccessRequest, Answers, AuditAction, AuditRecord, Contact, Day, Email, GateMode, Name,
    NotificationsMode, ObjectId, OrgRole, Organization, ReadmeBody, ReadmeHtml, Repo, RepoId,
    RepoRef, RepoType, RequestState, RequestStatus, RequestTarget, Timestamp, TokenRole,
    TokenSecret, User, Visibility,
};
use crate::store::{
    Account, CallerKey, CallerRecords, ContextRead, Cursor, FileEntry, MAX_PAGE_SIZE,
    MAX_RECORD_BYTES, NewCommit, ReadmeUpdate, RepoContext, SettingsUpdate, Store, StoreError,
    TargetRecords, TokenRecord,
};

/// Expands to one `#[tokio::test]` per contract case, each on a store of its own.
///
/// ```ignore
/// // A store that needs nothing else kept alive:
/// shared::store_contract_tests!(make_dynamo_store().await);
/// // A store living in something that must outlive it, such as a temporary directory: the
/// // expression gives `(store, guard)`, and the guard is dropped when the test ends.
/// shared::store_contract_tests!(with_guard: temp_store());
/// ```
///
/// The calling crate needs `tokio` with the `macros` and `rt` features.
#[macro_export]
macro_rules! store_contract_tests {
    (with_guard: $make:expr) => {
        $crate::store_contract_tests!(@cases store, (store, _guard), $make);
    };
    (@cases $store:ident, $binding:pat, $make:expr) => {
        $crate::store_contract_tests!(@each $store, $binding, $make, [
            a_created_user_can_be_read_back,
            a_created_organization_can_be_read_back,
            users_and_organizations_share_one_namespace,
            members_are_listed_in_join_order,
            a_membership_needs_an_existing_organization_and_user,
            an_account_is_the_user_with_their_organizations_in_join_order,
            a_token_is_found_by_its_digest_until_revoked,
            display_names_of_tokens_are_unique_per_user,
            a_created_repo_can_be_read_back_and_not_created_twice,
            a_dataset_and_a_model_with_the_same_id_are_distinct,
            a_settings_update_changes_only_what_it_names,
            a_commit_adds_and_replaces_files_and_moves_main,
            a_commit_sets_keeps_or_replaces_the_readme,
            a_repo_context_without_a_caller_is_the_repo_alone,
            a_repo_context_holds_a_callers_record_without_membership_or_request,
            a_repo_context_holds_the_role_of_a_member_of_the_owning_organization,
            a_repo_context_holds_the_callers_request_on_that_repo,
            a_repo_context_of_a_missing_repo_still_holds_the_callers_record,
            a_repo_context_has_no_caller_for_a_name_that_is_no_user,
            a_repo_context_resolves_a_caller_named_by_a_token_in_the_same_read,
            a_repo_context_has_no_token_or_caller_for_a_digest_of_no_live_token,
            a_repo_context_holds_the_target_named_by_user_or_by_id,
            a_repo_context_holds_the_named_file_of_main,
            a_gate_context_is_the_repo_context_with_the_callers_request_as_its_status,
            an_inserted_request_is_found_by_user_and_by_id,
            a_second_request_by_the_same_user_conflicts,
            a_request_for_a_missing_repo_or_user_is_not_found_and_writes_nothing,
            a_request_made_with_a_notifications_mode_the_repo_no_longer_has_is_stored,
            the_largest_request_a_form_allows_is_stored,
            a_record_larger_than_a_store_holds_is_refused_and_writes_nothing,
            an_update_from_the_version_read_is_stored_with_its_audit_record,
            an_update_from_a_stale_version_conflicts_and_writes_nothing,
            of_two_concurrent_updates_from_the_same_version_exactly_one_wins,
            a_delete_is_conditional_on_the_version_read,
            requests_are_listed_oldest_first_all_or_by_status,
            pages_return_every_request_exactly_once_in_order,
            listing_keeps_repos_and_repo_types_apart,
            a_malformed_cursor_is_refused,
            the_audit_trail_lists_a_requests_changes_in_order,
            pending_requests_are_found_by_the_day_they_became_pending,
            a_marker_is_claimed_once_until_released_or_expired,
            a_store_is_empty_until_something_is_stored,
        ]);
    };
    (@each $store:ident, $binding:pat, $make:expr, [$($case:ident),* $(,)?]) => {
        $(
            #[tokio::test]
            async fn $case() {
                let $binding = $make;
                $crate::store::contract::$case($store).await;
            }
        )*
    };
    ($make:expr) => {
        $crate::store_contract_tests!(@cases store, store, $make);
    };
}

// ---- fixtures -------------------------------------------------------------------------

const T0: i64 = 1_700_000_000_000;

fn at(offset_millis: i64) -> Timestamp {
    Timestamp::from_millis(T0 + offset_millis)
}

fn name(text: &str) -> Name {
    Name::parse(text).expect("a valid name")
}

fn user(text: &str) -> User {
    User {
        id: ObjectId::random(),
        name: name(text),
        fullname: format!("{text} Example"),
        email: Some(Email::parse(&format!("{text}@example.com")).expect("a valid email")),
        created_at: at(0),
    }
}

fn org(text: &str) -> Organization {
    Organization {
        id: ObjectId::random(),
        name: name(text),
        fullname: format!("The {text} organization"),
        created_at: at(0),
    }
}

fn repo_ref(repo_type: RepoType, id: &str) -> RepoRef {
    RepoRef::new(repo_type, RepoId::parse(id).expect("a valid repo id"))
}

fn model(id: &str) -> RepoRef {
    repo_ref(RepoType::Model, id)
}

fn repo(repo: &RepoRef) -> Repo {
    Repo {
        repo: repo.clone(),
        owner: repo.id.namespace().expect("a namespaced repo id").clone(),
        visibility: Visibility::Public,
        gate: GateMode::Manual,
        notifications_mode: NotificationsMode::Bulk,
        notifications_email: None,
        requester_emails: true,
        sha: "0".repeat(40),
        front_matter: None,
        created_at: at(0),
        last_modified: at(0),
    }
}

fn file(path: &str, size: u64) -> FileEntry {
    FileEntry {
        path: path.to_owned(),
        size,
        oid: format!("{size:040x}"),
        sha256: format!("{size:064x}"),
    }
}

fn token(user: &str, display_name: &str) -> TokenRecord {
    TokenRecord {
        user: name(user),
        role: TokenRole::Read,
        display_name: display_name.to_owned(),
        digest: TokenSecret::generate().digest(),
        created_at: at(0),
    }
}

/// A pending request whose answers are not in label order, so a store that sorts them fails.
fn request(repo: &RepoRef, user: &str, created_at: Timestamp) -> AccessRequest {
    AccessRequest {
        id: ObjectId::random(),
        repo: repo.clone(),
        user: name(user),
        contact: Contact {
            fullname: format!("{user} Example"),
            email: Some(Email::parse(&format!("{user}@example.com")).expect("a valid email")),
        },
        answers: Answers(vec![
            ("Organization".into(), "ACME".into()),
            ("Country".into(), "France".into()),
            ("I agree to the terms".into(), true.into()),
        ]),
        state: RequestState::Pending,
        created_at,
        updated_at: created_at,
        version: 1,
    }
}

fn requested(request: &AccessRequest) -> AuditRecord {
    AuditRecord::created(
        AuditAction::Requested,
        Some(&request.user),
        request,
        request.created_at,
    )
}

/// `before` moved to `to` by `reviewer`, with its audit record.
fn reviewed(
    before: &AccessRequest,
    to: RequestStatus,
    reviewer: &str,
    reason: Option<&str>,
    at: Timestamp,
) -> (AccessRequest, AuditRecord) {
    let reviewer = name(reviewer);
    let after = before
        .reviewed(to, &reviewer, reason.map(str::to_owned), at)
        .expect("a change of status");
    let audit = AuditRecord::changed(AuditAction::Reviewed, Some(&reviewer), before, &after, at);
    (after, audit)
}

fn withdrawn(request: &AccessRequest, at: Timestamp) -> AuditRecord {
    AuditRecord::removed(AuditAction::Withdrawn, Some(&request.user), request, at)
}

async fn given_users<S: Store>(store: &S, names: &[&str]) {
    for text in names {
        store.create_user(&user(text)).await.expect("create user");
    }
}

async fn given_repo<S: Store>(store: &S, repo_ref: &RepoRef) {
    store
        .create_repo(&repo(repo_ref))
        .await
        .expect("create repo");
}

/// Stores a pending request of `user` (who must exist) on `repo` (which must exist).
async fn given_request<S: Store>(
    store: &S,
    repo: &RepoRef,
    user: &str,
    created_at: Timestamp,
) -> AccessRequest {
    let request = request(repo, user, created_at);
    store
        .insert_request(&request, &requested(&request), NotificationsMode::Bulk)
        .await
        .expect("insert request");
    request
}

/// A repo's request with this id, as a reviewer naming it by its id reads it.
async fn request_by_id<S: Store>(store: &S, repo: &RepoRef, id: ObjectId) -> Option<AccessRequest> {
    let target = RequestTarget::Id(id);
    let read = ContextRead {
        target: Some(&target),
        ..ContextRead::default()
    };
    let context = store.repo_context(repo, read).await.expect("repo context");
    context.target.request
}

fn ids(requests: &[AccessRequest]) -> Vec<ObjectId> {
    requests.iter().map(|r| r.id).collect()
}

/// Every request of a listing, page by page, checking each page's size and cursor.
async fn list_all<S: Store>(
    store: &S,
    repo: &RepoRef,
    status: Option<RequestStatus>,
    page_size: usize,
) -> Vec<AccessRequest> {
    let mut all = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = store
            .list_requests(repo, status, cursor.as_ref(), page_size)
            .await
            .expect("list requests");
        assert!(
            page.items.len() <= page_size,
            "a page holds at most the size asked for"
        );
        all.extend(page.items.iter().cloned());
        match page.next {
            Some(next) => {
                assert_eq!(
                    page.items.len(),
                    page_size,
                    "only the last page may be short"
                );
                cursor = Some(next);
            }
            None => return all,
        }
    }
}

// ---- users and organizations ----------------------------------------------------------

pub async fn a_created_user_can_be_read_back<S: Store>(store: S) {
    let alice = user("alice");
    store.create_user(&alice).await.expect("create user");
    let no_email = User {
        email: None,
        ..user("bob")
    };
    store.create_user(&no_email).await.expect("create user");

    assert_eq!(store.user(&alice.name).await.unwrap(), Some(alice));
    assert_eq!(store.user(&no_email.name).await.unwrap(), Some(no_email));
    assert_eq!(store.user(&name("carol")).await.unwrap(), None);
}

pub async fn a_created_organization_can_be_read_back<S: Store>(store: S) {
    let acme = org("acme");
    store
        .create_organization(&acme)
        .await
        .expect("create organization");

    assert_eq!(store.organization(&acme.name).await.unwrap(), Some(acme));
    assert_eq!(store.organization(&name("globex")).await.unwrap(), None);
}

pub async fn users_and_organizations_share_one_namespace<S: Store>(store: S) {
    store
        .create_user(&user("alice"))
        .await
        .expect("create user");
    store
        .create_organization(&org("acme"))
        .await
        .expect("create organization");

    for result in [
        store.create_user(&user("alice")).await,
        store.create_user(&user("acme")).await,
        store.create_organization(&org("acme")).await,
        store.create_organization(&org("alice")).await,
    ] {
        assert!(
            matches!(result, Err(StoreError::AlreadyExists(_))),
            "{result:?}"
        );
    }
    assert_eq!(store.user(&name("acme")).await.unwrap(), None);
    assert_eq!(store.organization(&name("alice")).await.unwrap(), None);
}

pub async fn members_are_listed_in_join_order<S: Store>(store: S) {
    let acme = name("acme");
    store.create_organization(&org("acme")).await.unwrap();
    // Not in name order, and all in the same millisecond: only the join order may decide.
    let joining = [
        ("grace", OrgRole::Admin),
        ("alice", OrgRole::Read),
        ("frank", OrgRole::Write),
        ("bob", OrgRole::Admin),
        ("eve", OrgRole::Read),
        ("carol", OrgRole::Write),
        ("dave", OrgRole::Admin),
    ];
    for (member, role) in joining {
        store.create_user(&user(member)).await.unwrap();
        store
            .add_member(&acme, &name(member), role, at(5))
            .await
            .expect("add member");
    }
    store
        .remove_member(&acme, &name("frank"))
        .await
        .expect("remove member");

    let members = store.members(&acme).await.unwrap();
    let listed: Vec<_> = members
        .iter()
        .map(|m| (m.user.name.as_str(), m.role))
        .collect();
    let expected: Vec<_> = joining
        .into_iter()
        .filter(|(member, _)| *member != "frank")
        .collect();
    assert_eq!(listed, expected);
    assert!(members.iter().all(|m| m.joined_at == at(5)));
    assert_eq!(
        members[0].user,
        store.user(&name("grace")).await.unwrap().unwrap()
    );

    store
        .add_member(&acme, &name("frank"), OrgRole::Read, at(9))
        .await
        .unwrap();
    let last = store.members(&acme).await.unwrap().pop().unwrap();
    assert_eq!(
        (last.user.name, last.role, last.joined_at),
        (name("frank"), OrgRole::Read, at(9))
    );
}

pub async fn a_membership_needs_an_existing_organization_and_user<S: Store>(store: S) {
    let (acme, alice) = (name("acme"), name("alice"));
    store.create_organization(&org("acme")).await.unwrap();
    store.create_user(&user("alice")).await.unwrap();

    let result = store
        .add_member(&name("globex"), &alice, OrgRole::Read, at(0))
        .await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
    let result = store
        .add_member(&acme, &name("nobody"), OrgRole::Read, at(0))
        .await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
    let result = store.remove_member(&acme, &alice).await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");

    store
        .add_member(&acme, &alice, OrgRole::Write, at(0))
        .await
        .unwrap();
    let result = store.add_member(&acme, &alice, OrgRole::Admin, at(1)).await;
    assert!(
        matches!(result, Err(StoreError::AlreadyExists(_))),
        "{result:?}"
    );
    let members: Vec<_> = store
        .members(&acme)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.user.name, m.role))
        .collect();
    assert_eq!(members, [(alice, OrgRole::Write)]);
}

pub async fn an_account_is_the_user_with_their_organizations_in_join_order<S: Store>(store: S) {
    let bob = name("bob");
    for text in ["acme", "globex", "initech"] {
        store.create_organization(&org(text)).await.unwrap();
    }
    given_users(&store, &["alice", "bob", "carol"]).await;
    store
        .add_member(&name("globex"), &bob, OrgRole::Admin, at(1))
        .await
        .unwrap();
    store
        .add_member(&name("acme"), &name("alice"), OrgRole::Admin, at(1))
        .await
        .unwrap();
    store
        .add_member(&name("acme"), &bob, OrgRole::Read, at(1))
        .await
        .unwrap();

    let account = store.account(&bob).await.unwrap().expect("bob's account");
    assert_eq!(Some(account.user), store.user(&bob).await.unwrap());
    let listed: Vec<_> = account
        .orgs
        .iter()
        .map(|(o, role)| (o.name.as_str(), *role))
        .collect();
    assert_eq!(
        listed,
        [("globex", OrgRole::Admin), ("acme", OrgRole::Read)]
    );
    assert_eq!(
        Some(account.orgs[0].0.clone()),
        store.organization(&name("globex")).await.unwrap()
    );

    let carol = store.user(&name("carol")).await.unwrap().unwrap();
    assert_eq!(
        store.account(&carol.name).await.unwrap(),
        Some(Account {
            user: carol,
            orgs: Vec::new()
        })
    );
    // No such name, and an organization's: no account.
    for nobody in ["ghost", "acme"] {
        assert_eq!(
            store.account(&name(nobody)).await.unwrap(),
            None,
            "{nobody}"
        );
    }
}

// ---- tokens ---------------------------------------------------------------------------

pub async fn a_token_is_found_by_its_digest_until_revoked<S: Store>(store: S) {
    given_users(&store, &["alice"]).await;
    let laptop = TokenRecord {
        role: TokenRole::Write,
        ..token("alice", "laptop")
    };
    let ci = token("alice", "ci");
    store.create_token(&laptop).await.expect("create token");
    store.create_token(&ci).await.expect("create token");

    assert_eq!(
        store.token(&laptop.digest).await.unwrap(),
        Some(laptop.clone())
    );
    assert_eq!(
        store
            .token(&TokenSecret::generate().digest())
            .await
            .unwrap(),
        None
    );

    store
        .revoke_token(&name("alice"), "laptop")
        .await
        .expect("revoke token");
    assert_eq!(store.token(&laptop.digest).await.unwrap(), None);
    assert_eq!(store.token(&ci.digest).await.unwrap(), Some(ci));
    let result = store.revoke_token(&name("alice"), "laptop").await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
}

pub async fn display_names_of_tokens_are_unique_per_user<S: Store>(store: S) {
    given_users(&store, &["alice", "bob"]).await;
    let first = token("alice", "laptop");
    store.create_token(&first).await.unwrap();

    let again = token("alice", "laptop");
    let result = store.create_token(&again).await;
    assert!(
        matches!(result, Err(StoreError::AlreadyExists(_))),
        "{result:?}"
    );
    assert_eq!(store.token(&again.digest).await.unwrap(), None);
    assert_eq!(store.token(&first.digest).await.unwrap(), Some(first));

    store
        .create_token(&token("bob", "laptop"))
        .await
        .expect("another user's token");
}

// ---- repos ----------------------------------------------------------------------------

pub async fn a_created_repo_can_be_read_back_and_not_created_twice<S: Store>(store: S) {
    let stored = Repo {
        visibility: Visibility::Private,
        gate: GateMode::Auto,
        notifications_mode: NotificationsMode::RealTime,
        notifications_email: Some(Email::parse("owners@acme.example").unwrap()),
        requester_emails: true,
        front_matter: Some("license: mit\nextra_gated_prompt: Please\n".into()),
        last_modified: at(7),
        ..repo(&model("acme/m"))
    };
    store.create_repo(&stored).await.expect("create repo");

    assert_eq!(
        store.repo(&model("acme/m")).await.unwrap(),
        Some(stored.clone())
    );
    assert_eq!(store.repo(&model("acme/other")).await.unwrap(), None);
    let result = store.create_repo(&repo(&model("acme/m"))).await;
    assert!(
        matches!(result, Err(StoreError::AlreadyExists(_))),
        "{result:?}"
    );
    assert_eq!(store.repo(&model("acme/m")).await.unwrap(), Some(stored));
}

pub async fn a_dataset_and_a_model_with_the_same_id_are_distinct<S: Store>(store: S) {
    let model_repo = repo(&model("acme/x"));
    let dataset_repo = Repo {
        gate: GateMode::Off,
        ..repo(&repo_ref(RepoType::Dataset, "acme/x"))
    };
    store.create_repo(&model_repo).await.unwrap();
    assert_eq!(store.repo(&dataset_repo.repo).await.unwrap(), None);
    store
        .create_repo(&dataset_repo)
        .await
        .expect("a dataset beside a model");

    assert_eq!(
        store.repo(&model_repo.repo).await.unwrap(),
        Some(model_repo)
    );
    assert_eq!(
        store.repo(&dataset_repo.repo).await.unwrap(),
        Some(dataset_repo)
    );
}

pub async fn a_settings_update_changes_only_what_it_names<S: Store>(store: S) {
    let m = model("acme/m");
    let original = Repo {
        notifications_email: Some(Email::parse("owners@acme.example").unwrap()),
        requester_emails: true,
        ..repo(&m)
    };
    store.create_repo(&original).await.unwrap();

    let gate_only = SettingsUpdate {
        gate: Some(GateMode::Auto),
        ..Default::default()
    };
    let updated = store
        .update_repo_settings(&m, &gate_only)
        .await
        .expect("update settings");
    assert_eq!(
        updated,
        Repo {
            gate: GateMode::Auto,
            ..original.clone()
        }
    );
    assert_eq!(store.repo(&m).await.unwrap(), Some(updated.clone()));

    let rest = SettingsUpdate {
        visibility: Some(Visibility::Private),
        notifications_mode: Some(NotificationsMode::RealTime),
        notifications_email: Some(None),
        requester_emails: Some(false),
        ..Default::default()
    };
    let updated = store.update_repo_settings(&m, &rest).await.unwrap();
    let expected = Repo {
        visibility: Visibility::Private,
        gate: GateMode::Auto,
        notifications_mode: NotificationsMode::RealTime,
        notifications_email: None,
        requester_emails: false,
        ..original
    };
    assert_eq!(updated, expected);
    assert_eq!(store.repo(&m).await.unwrap(), Some(updated.clone()));

    let nothing = store
        .update_repo_settings(&m, &SettingsUpdate::default())
        .await
        .unwrap();
    assert_eq!(nothing, updated);
    let result = store
        .update_repo_settings(&model("acme/none"), &gate_only)
        .await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
}

pub async fn a_commit_adds_and_replaces_files_and_moves_main<S: Store>(store: S) {
    let m = model("acme/m");
    given_repo(&store, &m).await;
    let first = NewCommit {
        sha: "1".repeat(40),
        files: vec![
            file("weights/model.bin", 3),
            file("README.md", 1),
            file("config.json", 2),
        ],
        readme: None,
        at: at(10),
    };
    let after_first = store.commit(&m, &first).await.expect("commit");
    assert_eq!(
        after_first,
        Repo {
            sha: first.sha.clone(),
            last_modified: at(10),
            ..repo(&m)
        }
    );
    assert_eq!(store.repo(&m).await.unwrap(), Some(after_first));
    let paths: Vec<_> = store
        .files(&m)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(paths, ["README.md", "config.json", "weights/model.bin"]);

    let second = NewCommit {
        sha: "2".repeat(40),
        files: vec![file("config.json", 20), file("a.txt", 4)],
        readme: None,
        at: at(20),
    };
    let after_second = store.commit(&m, &second).await.unwrap();
    assert_eq!(
        after_second,
        Repo {
            sha: second.sha.clone(),
            last_modified: at(20),
            ..repo(&m)
        }
    );
    assert_eq!(
        store.files(&m).await.unwrap(),
        [
            file("README.md", 1),
            file("a.txt", 4),
            file("config.json", 20),
            file("weights/model.bin", 3)
        ]
    );

    let result = store.commit(&model("acme/none"), &second).await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
    assert!(store.files(&model("acme/none")).await.unwrap().is_empty());
}

pub async fn a_commit_sets_keeps_or_replaces_the_readme<S: Store>(store: S) {
    let m = model("acme/m");
    given_repo(&store, &m).await;
    let commit = |n: u8, readme: Option<ReadmeUpdate>| NewCommit {
        sha: n.to_string().repeat(40),
        files: vec![file("README.md", n.into())],
        readme,
        at: at(n.into()),
    };
    let readme_of = |repo: &RepoRef| {
        let (store, repo) = (&store, repo.clone());
        async move {
            let read = ContextRead {
                readme_html: true,
                ..ContextRead::default()
            };
            store.repo_context(&repo, read).await.unwrap().readme_html
        }
    };
    let first = ReadmeUpdate {
        front_matter: Some("gated: manual\n".into()),
        html: ReadmeHtml {
            body: ReadmeBody::Html("<h1>M</h1>".into()),
            prompt: Some("<p>Agree</p>".into()),
        },
    };

    assert_eq!(readme_of(&m).await, None);
    let set = store
        .commit(&m, &commit(1, Some(first.clone())))
        .await
        .unwrap();
    assert_eq!(set.front_matter.as_deref(), Some("gated: manual\n"));
    assert_eq!(readme_of(&m).await, Some(first.html.clone()));
    let unasked = store
        .repo_context(&m, ContextRead::default())
        .await
        .unwrap();
    assert_eq!(unasked.readme_html, None, "read only when asked for");

    let kept = store.commit(&m, &commit(2, None)).await.unwrap();
    assert_eq!(kept.front_matter.as_deref(), Some("gated: manual\n"));
    assert_eq!(readme_of(&m).await, Some(first.html));

    for body in [ReadmeBody::TooLarge, ReadmeBody::Empty] {
        let html = ReadmeHtml { body, prompt: None };
        let replaced = ReadmeUpdate {
            front_matter: None,
            html: html.clone(),
        };
        let cleared = store.commit(&m, &commit(3, Some(replaced))).await.unwrap();
        assert_eq!(cleared.front_matter, None);
        assert_eq!(store.repo(&m).await.unwrap(), Some(cleared));
        assert_eq!(readme_of(&m).await, Some(html));
    }
}

// ---- what a call on a repo reads --------------------------------------------------------

/// `acme/m`, owned by the organization `acme` (alice its admin, bob a reader), and the users
/// carol and dave, members of nothing.
async fn given_an_org_repo<S: Store>(store: &S) -> RepoRef {
    let (m, acme) = (model("acme/m"), name("acme"));
    store.create_organization(&org("acme")).await.unwrap();
    given_users(store, &["alice", "bob", "carol", "dave"]).await;
    store
        .add_member(&acme, &name("alice"), OrgRole::Admin, at(0))
        .await
        .unwrap();
    store
        .add_member(&acme, &name("bob"), OrgRole::Read, at(0))
        .await
        .unwrap();
    given_repo(store, &m).await;
    m
}

fn as_caller(caller: &Name) -> ContextRead<'_> {
    ContextRead {
        caller: Some(CallerKey::Name(caller)),
        ..ContextRead::default()
    }
}

pub async fn a_repo_context_without_a_caller_is_the_repo_alone<S: Store>(store: S) {
    let m = given_an_org_repo(&store).await;
    given_request(&store, &m, "dave", at(1)).await;

    let context = store
        .repo_context(&m, ContextRead::default())
        .await
        .unwrap();
    assert!(context.repo.is_some());
    assert_eq!(
        context,
        RepoContext {
            repo: store.repo(&m).await.unwrap(),
            token: None,
            caller: None,
            target: TargetRecords::default(),
            file: None,
            readme_html: None,
        }
    );
}

pub async fn a_repo_context_holds_a_callers_record_without_membership_or_request<S: Store>(
    store: S,
) {
    let m = given_an_org_repo(&store).await;
    let carol = name("carol");

    let context = store.repo_context(&m, as_caller(&carol)).await.unwrap();
    assert_eq!(context.repo, store.repo(&m).await.unwrap());
    assert_eq!(
        context.caller,
        Some(CallerRecords {
            user: store.user(&carol).await.unwrap().unwrap(),
            membership: None,
            request: None,
        })
    );
    assert_eq!(context.target, TargetRecords::default());
}

pub async fn a_repo_context_holds_the_role_of_a_member_of_the_owning_organization<S: Store>(
    store: S,
) {
    let m = given_an_org_repo(&store).await;
    let role = |context: RepoContext| context.caller.expect("a caller").membership;
    for (who, expected) in [
        ("alice", Some(OrgRole::Admin)),
        ("bob", Some(OrgRole::Read)),
        ("carol", None),
    ] {
        let context = store.repo_context(&m, as_caller(&name(who))).await;
        assert_eq!(role(context.unwrap()), expected, "{who} on {m}");
    }

    // A repo of a user's namespace has no members, its owner included.
    let own = model("carol/m");
    given_repo(&store, &own).await;
    for who in ["carol", "alice"] {
        let context = store.repo_context(&own, as_caller(&name(who))).await;
        assert_eq!(role(context.unwrap()), None, "{who} on {own}");
    }

    // A one-segment id has no namespace: only the repo names its owner.
    let legacy = model("legacy");
    store
        .create_repo(&Repo {
            repo: legacy.clone(),
            owner: name("acme"),
            ..repo(&m)
        })
        .await
        .unwrap();
    for (who, expected) in [("alice", Some(OrgRole::Admin)), ("carol", None)] {
        let context = store.repo_context(&legacy, as_caller(&name(who))).await;
        assert_eq!(role(context.unwrap()), expected, "{who} on {legacy}");
    }
}

pub async fn a_repo_context_holds_the_callers_request_on_that_repo<S: Store>(store: S) {
    let (m, other) = (given_an_org_repo(&store).await, model("acme/other"));
    given_repo(&store, &other).await;
    let pending = given_request(&store, &m, "dave", at(1)).await;
    let dave = name("dave");

    let context = store.repo_context(&m, as_caller(&dave)).await.unwrap();
    assert_eq!(context.caller.expect("dave").request, Some(pending));
    let context = store.repo_context(&other, as_caller(&dave)).await.unwrap();
    assert_eq!(context.caller.expect("dave").request, None);
}

pub async fn a_repo_context_of_a_missing_repo_still_holds_the_callers_record<S: Store>(store: S) {
    let m = given_an_org_repo(&store).await;
    given_request(&store, &m, "dave", at(1)).await;
    let (missing, alice) = (model("acme/missing"), name("alice"));

    let context = store
        .repo_context(&missing, as_caller(&alice))
        .await
        .unwrap();
    assert_eq!(
        context,
        RepoContext {
            repo: None,
            token: None,
            caller: Some(CallerRecords {
                user: store.user(&alice).await.unwrap().unwrap(),
                membership: None,
                request: None,
            }),
            target: TargetRecords::default(),
            file: None,
            readme_html: None,
        }
    );
    let anonymous = store.repo_context(&missing, ContextRead::default()).await;
    assert_eq!(anonymous.unwrap().repo, None);
}

pub async fn a_repo_context_has_no_caller_for_a_name_that_is_no_user<S: Store>(store: S) {
    let m = given_an_org_repo(&store).await;
    // No one has the name; an organization has it.
    for nobody in ["ghost", "acme"] {
        for repo in [&m, &model("acme/missing")] {
            let context = store.repo_context(repo, as_caller(&name(nobody))).await;
            assert_eq!(context.unwrap().caller, None, "{nobody} on {repo}");
        }
    }
}

pub async fn a_repo_context_resolves_a_caller_named_by_a_token_in_the_same_read<S: Store>(
    store: S,
) {
    let m = given_an_org_repo(&store).await;
    let pending = given_request(&store, &m, "bob", at(1)).await;
    let laptop = token("bob", "laptop");
    store.create_token(&laptop).await.unwrap();
    let by_token = |repo: &RepoRef| {
        let (store, repo, digest) = (&store, repo.clone(), laptop.digest);
        async move {
            let read = ContextRead {
                caller: Some(CallerKey::Token(&digest)),
                ..ContextRead::default()
            };
            store.repo_context(&repo, read).await.unwrap()
        }
    };

    let context = by_token(&m).await;
    assert_eq!(context.token, Some(laptop.clone()));
    let by_name = store.repo_context(&m, as_caller(&name("bob"))).await;
    let by_name = by_name.unwrap();
    assert_eq!(context.caller, by_name.caller);
    assert_eq!(
        context
            .caller
            .map(|caller| (caller.membership, caller.request)),
        Some((Some(OrgRole::Read), Some(pending)))
    );
    assert_eq!(
        by_name.token, None,
        "a caller named by name has no token read"
    );

    let missing = by_token(&model("acme/missing")).await;
    assert_eq!(missing.repo, None);
    assert_eq!(missing.token, Some(laptop));
    assert_eq!(
        missing.caller.map(|caller| caller.user),
        store.user(&name("bob")).await.unwrap()
    );
}

pub async fn a_repo_context_has_no_token_or_caller_for_a_digest_of_no_live_token<S: Store>(
    store: S,
) {
    let m = given_an_org_repo(&store).await;
    let (revoked, never) = (token("bob", "old"), token("bob", "never stored"));
    store.create_token(&revoked).await.unwrap();
    store.revoke_token(&name("bob"), "old").await.unwrap();

    for digest in [revoked.digest, never.digest] {
        for repo in [&m, &model("acme/missing")] {
            let read = ContextRead {
                caller: Some(CallerKey::Token(&digest)),
                file: Some("config.json"),
                ..ContextRead::default()
            };
            let context = store.repo_context(repo, read).await.unwrap();
            assert_eq!((context.token, context.caller), (None, None), "{repo}");
        }
    }
}

pub async fn a_gate_context_is_the_repo_context_with_the_callers_request_as_its_status<S: Store>(
    store: S,
) {
    let m = given_an_org_repo(&store).await;
    let commit = NewCommit {
        sha: "2".repeat(40),
        files: vec![file("config.json", 2)],
        readme: None,
        at: at(10),
    };
    store.commit(&m, &commit).await.expect("commit");
    given_request(&store, &m, "bob", at(11)).await;
    let laptop = token("bob", "laptop");
    store.create_token(&laptop).await.unwrap();
    let (bob, carol) = (name("bob"), name("carol"));
    let callers = [
        None,
        Some(CallerKey::Name(&bob)),
        Some(CallerKey::Name(&carol)),
        Some(CallerKey::Token(&laptop.digest)),
    ];

    for repo in [&m, &model("acme/missing")] {
        for caller in callers {
            for file in [None, Some("config.json"), Some("missing.json")] {
                let read = ContextRead {
                    caller,
                    file,
                    ..ContextRead::default()
                };
                let whole = store.repo_context(repo, read).await.unwrap();
                let gate = store.gate_context(repo, read).await.unwrap();
                assert_eq!(gate, whole.with_request_status(), "{caller:?} on {repo}");
            }
        }
    }
    let read = ContextRead {
        caller: Some(CallerKey::Token(&laptop.digest)),
        ..ContextRead::default()
    };
    let gate = store.gate_context(&m, read).await.unwrap();
    let request = gate.caller.and_then(|caller| caller.request);
    assert_eq!(request, Some(RequestStatus::Pending));
}

pub async fn a_repo_context_holds_the_named_file_of_main<S: Store>(store: S) {
    let m = given_an_org_repo(&store).await;
    let commit = NewCommit {
        sha: "1".repeat(40),
        files: vec![file("config.json", 2), file("weights/model.bin", 3)],
        readme: None,
        at: at(10),
    };
    store.commit(&m, &commit).await.expect("commit");
    let (dave, alice) = (name("dave"), name("alice"));
    let request = given_request(&store, &m, "dave", at(11)).await;
    let file_of = |repo: &RepoRef, caller: Option<&Name>, path: &str| {
        let (store, repo, caller, path) = (&store, repo.clone(), caller.cloned(), path.to_owned());
        async move {
            let read = ContextRead {
                caller: caller.as_ref().map(CallerKey::Name),
                target: None,
                file: Some(&path),
                readme_html: false,
            };
            store.repo_context(&repo, read).await.unwrap()
        }
    };

    let context = file_of(&m, Some(&dave), "weights/model.bin").await;
    assert_eq!(context.file, Some(file("weights/model.bin", 3)));
    assert_eq!(context.caller.expect("dave").request, Some(request));
    let context = file_of(&m, None, "config.json").await;
    assert_eq!(context.file, Some(file("config.json", 2)));
    assert_eq!(context.repo, store.repo(&m).await.unwrap());

    for missing in [
        "weights",
        "config.jso",
        "Config.json",
        "weights/model.bin/x",
    ] {
        let context = file_of(&m, Some(&alice), missing).await;
        assert_eq!(context.file, None, "{missing}");
        assert!(context.repo.is_some());
    }
    let context = file_of(&model("acme/missing"), Some(&alice), "config.json").await;
    assert_eq!((context.repo, context.file), (None, None));
}

pub async fn a_repo_context_holds_the_target_named_by_user_or_by_id<S: Store>(store: S) {
    let (m, other) = (given_an_org_repo(&store).await, model("acme/other"));
    given_repo(&store, &other).await;
    let pending = given_request(&store, &m, "dave", at(1)).await;
    let (alice, dave) = (name("alice"), name("dave"));
    let user = |text: &str| {
        let store = &store;
        let name = name(text);
        async move { store.user(&name).await.unwrap() }
    };
    let target_of = |repo: &RepoRef, caller: &Name, target: RequestTarget| {
        let (store, repo, caller) = (&store, repo.clone(), caller.clone());
        async move {
            let read = ContextRead {
                caller: Some(CallerKey::Name(&caller)),
                target: Some(&target),
                file: None,
                readme_html: false,
            };
            let context = store.repo_context(&repo, read).await.unwrap();
            (context.caller.expect("the caller"), context.target)
        }
    };

    let (reviewer, target) = target_of(&m, &alice, RequestTarget::User(dave.clone())).await;
    assert_eq!(reviewer.membership, Some(OrgRole::Admin));
    assert_eq!(
        target,
        TargetRecords {
            user: user("dave").await,
            request: Some(pending.clone()),
        }
    );
    let (_, target) = target_of(&m, &alice, RequestTarget::User(name("carol"))).await;
    assert_eq!(
        target,
        TargetRecords {
            user: user("carol").await,
            request: None,
        }
    );
    let (_, target) = target_of(&m, &alice, RequestTarget::User(name("ghost"))).await;
    assert_eq!(target, TargetRecords::default());

    let (_, target) = target_of(&m, &alice, RequestTarget::Id(pending.id)).await;
    assert_eq!(
        target,
        TargetRecords {
            user: None,
            request: Some(pending.clone()),
        }
    );
    for (repo, id) in [(&other, pending.id), (&m, ObjectId::random())] {
        let (_, target) = target_of(repo, &alice, RequestTarget::Id(id)).await;
        assert_eq!(target, TargetRecords::default(), "{id} on {repo}");
    }

    // The caller may be their own target: both get the same records.
    let (caller, target) = target_of(&m, &dave, RequestTarget::User(dave.clone())).await;
    assert_eq!(caller.request, Some(pending.clone()));
    assert_eq!(target.request, Some(pending));
    assert_eq!(target.user, Some(caller.user));
}

// ---- access requests ------------------------------------------------------------------

pub async fn an_inserted_request_is_found_by_user_and_by_id<S: Store>(store: S) {
    let (m, other) = (model("acme/m"), model("acme/other"));
    given_repo(&store, &m).await;
    given_repo(&store, &other).await;
    given_users(&store, &["alice", "bob"]).await;
    let pending = given_request(&store, &m, "alice", at(1)).await;
    let accepted = AccessRequest {
        state: RequestState::Accepted { review: None },
        contact: Contact {
            fullname: "Bob".into(),
            email: None,
        },
        answers: Answers::default(),
        ..request(&m, "bob", at(2))
    };
    store
        .insert_request(&accepted, &requested(&accepted), NotificationsMode::Bulk)
        .await
        .unwrap();

    assert_eq!(
        store.access_request(&m, &name("alice")).await.unwrap(),
        Some(pending.clone())
    );
    assert_eq!(
        request_by_id(&store, &m, pending.id).await,
        Some(pending.clone())
    );
    assert_eq!(
        store.access_request(&m, &name("bob")).await.unwrap(),
        Some(accepted.clone())
    );
    assert_eq!(request_by_id(&store, &m, accepted.id).await, Some(accepted));

    assert_eq!(
        store.access_request(&other, &name("alice")).await.unwrap(),
        None
    );
    assert_eq!(request_by_id(&store, &other, pending.id).await, None);
    assert_eq!(request_by_id(&store, &m, ObjectId::random()).await, None);
    assert_eq!(
        store.access_request(&m, &name("carol")).await.unwrap(),
        None
    );
}

pub async fn a_second_request_by_the_same_user_conflicts<S: Store>(store: S) {
    let m = model("acme/m");
    given_repo(&store, &m).await;
    given_users(&store, &["alice"]).await;
    let first = given_request(&store, &m, "alice", at(1)).await;

    let second = request(&m, "alice", at(2));
    let result = store
        .insert_request(&second, &requested(&second), NotificationsMode::Bulk)
        .await;
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");

    assert_eq!(
        store.access_request(&m, &name("alice")).await.unwrap(),
        Some(first)
    );
    assert_eq!(request_by_id(&store, &m, second.id).await, None);
    assert!(store.audit_trail(&m, second.id).await.unwrap().is_empty());
}

pub async fn a_request_for_a_missing_repo_or_user_is_not_found_and_writes_nothing<S: Store>(
    store: S,
) {
    let (m, missing) = (model("acme/m"), model("acme/missing"));
    given_repo(&store, &m).await;
    given_users(&store, &["alice"]).await;

    let on_missing_repo = request(&missing, "alice", at(1));
    let result = store
        .insert_request(
            &on_missing_repo,
            &requested(&on_missing_repo),
            NotificationsMode::Bulk,
        )
        .await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
    let by_missing_user = request(&m, "ghost", at(1));
    let result = store
        .insert_request(
            &by_missing_user,
            &requested(&by_missing_user),
            NotificationsMode::Bulk,
        )
        .await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");

    assert_eq!(
        store.access_request(&m, &name("ghost")).await.unwrap(),
        None
    );
    assert!(list_all(&store, &m, None, 10).await.is_empty());
    for refused in [&on_missing_repo, &by_missing_user] {
        assert!(
            store
                .audit_trail(&refused.repo, refused.id)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

/// The mode a caller read can be stale by the time the request is written (an owner changed
/// it in between): the request is stored all the same, as if the caller had read it later.
pub async fn a_request_made_with_a_notifications_mode_the_repo_no_longer_has_is_stored<S: Store>(
    store: S,
) {
    let m = model("acme/m");
    given_repo(&store, &m).await;
    given_users(&store, &["alice"]).await;
    let realtime = SettingsUpdate {
        notifications_mode: Some(NotificationsMode::RealTime),
        ..SettingsUpdate::default()
    };
    store.update_repo_settings(&m, &realtime).await.unwrap();

    let request = request(&m, "alice", at(1));
    store
        .insert_request(&request, &requested(&request), NotificationsMode::Bulk)
        .await
        .expect("a stale mode does not refuse the request");
    assert_eq!(
        store.access_request(&m, &name("alice")).await.unwrap(),
        Some(request.clone())
    );
    assert_eq!(store.audit_trail(&m, request.id).await.unwrap().len(), 1);
}

/// The most a request can carry through the service: every field a card may have, each with
/// the longest label and answer, in four-byte characters, and the longest full name.
pub async fn the_largest_request_a_form_allows_is_stored<S: Store>(store: S) {
    use crate::card::{MAX_FIELDS, MAX_LABEL_CHARS, MAX_TEXT_ANSWER_CHARS};
    use crate::domain::MAX_FULLNAME_CHARS;

    let m = model("acme/m");
    given_repo(&store, &m).await;
    given_users(&store, &["alice"]).await;
    let wide = '\u{1D538}';
    let answers = (0..MAX_FIELDS)
        .map(|i| {
            let label: String = format!("{i:02}")
                .chars()
                .chain(std::iter::repeat_n(wide, MAX_LABEL_CHARS - 2))
                .collect();
            let answer: String = std::iter::repeat_n(wide, MAX_TEXT_ANSWER_CHARS).collect();
            (label, answer.into())
        })
        .collect();
    let largest = AccessRequest {
        contact: Contact {
            fullname: std::iter::repeat_n(wide, MAX_FULLNAME_CHARS).collect(),
            email: Some(Email::parse(&format!("{}@example.com", "a".repeat(64))).unwrap()),
        },
        answers: Answers(answers),
        ..request(&m, "alice", at(1))
    };
    store
        .insert_request(&largest, &requested(&largest), NotificationsMode::Bulk)
        .await
        .expect("the largest request the form allows fits the store");
    assert_eq!(
        store.access_request(&m, &name("alice")).await.unwrap(),
        Some(largest)
    );
}

pub async fn a_record_larger_than_a_store_holds_is_refused_and_writes_nothing<S: Store>(store: S) {
    let m = model("acme/m");
    given_repo(&store, &m).await;
    given_users(&store, &["alice", "bob"]).await;
    let essay = || "x".repeat(MAX_RECORD_BYTES + 1);
    let too_large = |result: Result<(), StoreError>| {
        assert!(
            matches!(result, Err(StoreError::TooLarge(ref message)) if message.contains(&MAX_RECORD_BYTES.to_string())),
            "{result:?}"
        );
    };

    let huge = User {
        fullname: essay(),
        ..user("carol")
    };
    too_large(store.create_user(&huge).await);
    assert_eq!(store.user(&huge.name).await.unwrap(), None);

    let mut request = request(&m, "alice", at(1));
    request.answers = Answers(vec![("Essay".into(), essay().into())]);
    too_large(
        store
            .insert_request(&request, &requested(&request), NotificationsMode::Bulk)
            .await,
    );
    assert_eq!(
        store.access_request(&m, &name("alice")).await.unwrap(),
        None
    );
    assert!(store.audit_trail(&m, request.id).await.unwrap().is_empty());

    let pending = given_request(&store, &m, "bob", at(1)).await;
    let (rejected, rejection) = reviewed(
        &pending,
        RequestStatus::Rejected,
        "owner",
        Some(&essay()),
        at(2),
    );
    too_large(store.update_request(&rejected, &rejection).await);
    assert_eq!(
        store.access_request(&m, &name("bob")).await.unwrap(),
        Some(pending.clone())
    );
    assert_eq!(
        store.audit_trail(&m, pending.id).await.unwrap(),
        [requested(&pending)]
    );
}

pub async fn an_update_from_the_version_read_is_stored_with_its_audit_record<S: Store>(store: S) {
    let m = model("acme/m");
    given_repo(&store, &m).await;
    given_users(&store, &["alice"]).await;
    let pending = given_request(&store, &m, "alice", at(1)).await;

    let (rejected, rejection) = reviewed(
        &pending,
        RequestStatus::Rejected,
        "owner",
        Some("Not eligible"),
        at(2),
    );
    store
        .update_request(&rejected, &rejection)
        .await
        .expect("update request");
    assert_eq!(
        store.access_request(&m, &name("alice")).await.unwrap(),
        Some(rejected.clone())
    );
    assert_eq!(rejected.version, 2);

    let (accepted, acceptance) = reviewed(&rejected, RequestStatus::Accepted, "owner", None, at(3));
    store
        .update_request(&accepted, &acceptance)
        .await
        .expect("update request");
    assert_eq!(request_by_id(&store, &m, pending.id).await, Some(accepted));
    assert_eq!(
        store.audit_trail(&m, pending.id).await.unwrap(),
        [requested(&pending), rejection, acceptance]
    );
}

pub async fn an_update_from_a_stale_version_conflicts_and_writes_nothing<S: Store>(store: S) {
    let m = model("acme/m");
    given_repo(&store, &m).await;
    given_users(&store, &["alice"]).await;
    let pending = given_request(&store, &m, "alice", at(1)).await;
    let (accepted, acceptance) = reviewed(&pending, RequestStatus::Accepted, "owner", None, at(2));
    store.update_request(&accepted, &acceptance).await.unwrap();

    // A second reviewer still looking at the pending request.
    let (stale, stale_audit) = reviewed(
        &pending,
        RequestStatus::Rejected,
        "other-owner",
        Some("no"),
        at(3),
    );
    let result = store.update_request(&stale, &stale_audit).await;
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    // Skipping a version is no better.
    let skipping = AccessRequest {
        version: accepted.version + 2,
        ..stale.clone()
    };
    let result = store.update_request(&skipping, &stale_audit).await;
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");

    assert_eq!(
        store.access_request(&m, &name("alice")).await.unwrap(),
        Some(accepted)
    );
    assert_eq!(
        store.audit_trail(&m, pending.id).await.unwrap(),
        [requested(&pending), acceptance]
    );
}

pub async fn of_two_concurrent_updates_from_the_same_version_exactly_one_wins<S: Store>(store: S) {
    let m = model("acme/m");
    given_repo(&store, &m).await;
    given_users(&store, &["alice"]).await;
    let pending = given_request(&store, &m, "alice", at(1)).await;
    let (accepted, acceptance) = reviewed(&pending, RequestStatus::Accepted, "owner", None, at(2));
    let (rejected, rejection) = reviewed(
        &pending,
        RequestStatus::Rejected,
        "co-owner",
        Some("no"),
        at(2),
    );

    let (accept, reject) = tokio::join!(
        store.update_request(&accepted, &acceptance),
        store.update_request(&rejected, &rejection),
    );

    let (winner, audit) = match (&accept, &reject) {
        (Ok(()), Err(StoreError::Conflict)) => (accepted, acceptance),
        (Err(StoreError::Conflict), Ok(())) => (rejected, rejection),
        _ => panic!("expected exactly one success and one conflict: {accept:?}, {reject:?}"),
    };
    assert_eq!(
        store.access_request(&m, &name("alice")).await.unwrap(),
        Some(winner)
    );
    assert_eq!(
        store.audit_trail(&m, pending.id).await.unwrap(),
        [requested(&pending), audit]
    );
}

pub async fn a_delete_is_conditional_on_the_version_read<S: Store>(store: S) {
    let m = model("acme/m");
    given_repo(&store, &m).await;
    given_users(&store, &["alice"]).await;
    let pending = given_request(&store, &m, "alice", at(1)).await;
    let (accepted, acceptance) = reviewed(&pending, RequestStatus::Accepted, "owner", None, at(2));
    store.update_request(&accepted, &acceptance).await.unwrap();

    let result = store
        .delete_request(&pending, &withdrawn(&pending, at(3)))
        .await;
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    assert_eq!(
        store.access_request(&m, &name("alice")).await.unwrap(),
        Some(accepted.clone())
    );

    let withdrawal = withdrawn(&accepted, at(4));
    store
        .delete_request(&accepted, &withdrawal)
        .await
        .expect("delete request");
    assert_eq!(
        store.access_request(&m, &name("alice")).await.unwrap(),
        None
    );
    assert_eq!(request_by_id(&store, &m, pending.id).await, None);
    let result = store.delete_request(&accepted, &withdrawal).await;
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    assert_eq!(
        store.audit_trail(&m, pending.id).await.unwrap(),
        [requested(&pending), acceptance, withdrawal]
    );

    let again = given_request(&store, &m, "alice", at(5)).await;
    assert_eq!(
        store.access_request(&m, &name("alice")).await.unwrap(),
        Some(again)
    );
}

pub async fn requests_are_listed_oldest_first_all_or_by_status<S: Store>(store: S) {
    let m = model("acme/m");
    given_repo(&store, &m).await;
    given_users(&store, &["alice", "bob", "carol", "dave"]).await;
    // Inserted out of time order; bob and carol asked in the same millisecond.
    let dave = given_request(&store, &m, "dave", at(40)).await;
    let bob = given_request(&store, &m, "bob", at(20)).await;
    let alice = given_request(&store, &m, "alice", at(10)).await;
    let carol = given_request(&store, &m, "carol", at(20)).await;
    let (bob, audit) = reviewed(&bob, RequestStatus::Accepted, "owner", None, at(50));
    store.update_request(&bob, &audit).await.unwrap();

    // Equal times are ordered by id.
    let oldest_first = |mut requests: Vec<AccessRequest>| {
        requests.sort_by_key(|r| (r.created_at, r.id));
        requests
    };
    let all = store
        .list_requests(&m, None, None, MAX_PAGE_SIZE)
        .await
        .unwrap();
    let expected = oldest_first(vec![
        alice.clone(),
        bob.clone(),
        carol.clone(),
        dave.clone(),
    ]);
    assert_eq!(ids(&expected)[0], alice.id);
    assert_eq!((all.items, all.next), (expected, None));

    let pending = store
        .list_requests(&m, Some(RequestStatus::Pending), None, MAX_PAGE_SIZE)
        .await
        .unwrap();
    assert_eq!(pending.items, oldest_first(vec![dave, carol, alice]));
    let accepted = store
        .list_requests(&m, Some(RequestStatus::Accepted), None, 10)
        .await
        .unwrap();
    assert_eq!(accepted.items, [bob]);
    let rejected = store
        .list_requests(&m, Some(RequestStatus::Rejected), None, 10)
        .await
        .unwrap();
    assert_eq!((rejected.items.len(), rejected.next), (0, None));
}

pub async fn pages_return_every_request_exactly_once_in_order<S: Store>(store: S) {
    let m = model("acme/m");
    given_repo(&store, &m).await;
    let mut requests = Vec::new();
    for i in 0..250 {
        let requester = format!("user-{i}");
        store.create_user(&user(&requester)).await.unwrap();
        // Three requests per millisecond, so pages also break between equal times.
        let mut request = request(&m, &requester, at(i / 3));
        if i % 5 == 0 {
            request.state = RequestState::Accepted { review: None };
        }
        store
            .insert_request(&request, &requested(&request), NotificationsMode::Bulk)
            .await
            .unwrap();
        requests.push(request);
    }
    requests.sort_by_key(|r| (r.created_at, r.id));

    let all = list_all(&store, &m, None, 100).await;
    assert_eq!(ids(&all), ids(&requests));
    let first = store.list_requests(&m, None, None, 100).await.unwrap();
    let second = store
        .list_requests(&m, None, first.next.as_ref(), 100)
        .await
        .unwrap();
    let third = store
        .list_requests(&m, None, second.next.as_ref(), 100)
        .await
        .unwrap();
    assert_eq!(
        (first.items.len(), second.items.len(), third.items.len()),
        (100, 100, 50)
    );
    assert_eq!(third.next, None);

    // Exactly two full pages of pending requests: the second one still has no cursor.
    let pending: Vec<_> = requests
        .iter()
        .filter(|r| r.status() == RequestStatus::Pending)
        .cloned()
        .collect();
    assert_eq!(pending.len(), 200);
    assert_eq!(
        ids(&list_all(&store, &m, Some(RequestStatus::Pending), 100).await),
        ids(&pending)
    );
    let accepted: Vec<_> = requests
        .iter()
        .filter(|r| r.status() == RequestStatus::Accepted)
        .cloned()
        .collect();
    assert_eq!(
        list_all(&store, &m, Some(RequestStatus::Accepted), 7).await,
        accepted
    );

    let oversized = store.list_requests(&m, None, None, 1000).await.unwrap();
    assert_eq!(oversized.items.len(), MAX_PAGE_SIZE);
    assert!(oversized.next.is_some());
}

pub async fn listing_keeps_repos_and_repo_types_apart<S: Store>(store: S) {
    let (m, d, other) = (
        model("acme/x"),
        repo_ref(RepoType::Dataset, "acme/x"),
        model("acme/x2"),
    );
    for repo_ref in [&m, &d, &other] {
        given_repo(&store, repo_ref).await;
    }
    given_users(&store, &["alice", "bob"]).await;
    let on_model = given_request(&store, &m, "alice", at(1)).await;
    let on_dataset = given_request(&store, &d, "alice", at(2)).await;
    let bob_on_dataset = given_request(&store, &d, "bob", at(3)).await;
    given_request(&store, &other, "bob", at(0)).await;

    assert_eq!(
        store.access_request(&d, &name("alice")).await.unwrap(),
        Some(on_dataset.clone())
    );
    assert_eq!(request_by_id(&store, &m, on_dataset.id).await, None);
    assert_eq!(store.audit_trail(&m, on_dataset.id).await.unwrap(), []);

    let model_page = store.list_requests(&m, None, None, 10).await.unwrap();
    assert_eq!(model_page.items, [on_model]);
    let dataset_page = store.list_requests(&d, None, None, 1).await.unwrap();
    assert_eq!(dataset_page.items, [on_dataset]);
    let rest = store
        .list_requests(&d, None, dataset_page.next.as_ref(), 1)
        .await
        .unwrap();
    assert_eq!((rest.items, rest.next), (vec![bob_on_dataset], None));
}

pub async fn a_malformed_cursor_is_refused<S: Store>(store: S) {
    let m = model("acme/m");
    given_repo(&store, &m).await;
    for text in [
        "",
        "not a cursor",
        "bm90OmEgY3Vyc29y",
        "MTcwMDAwMDAwMDAwMDp4eXo",
    ] {
        let cursor = Cursor::from_client(text);
        let result = store.list_requests(&m, None, Some(&cursor), 10).await;
        assert!(
            matches!(result, Err(StoreError::InvalidCursor)),
            "{text:?}: {result:?}"
        );
    }
}

pub async fn the_audit_trail_lists_a_requests_changes_in_order<S: Store>(store: S) {
    let m = model("acme/m");
    given_repo(&store, &m).await;
    given_users(&store, &["alice", "bob"]).await;
    let alice = given_request(&store, &m, "alice", at(1)).await;
    let bob = given_request(&store, &m, "bob", at(1)).await;
    let (accepted, acceptance) = reviewed(&alice, RequestStatus::Accepted, "owner", None, at(2));
    store.update_request(&accepted, &acceptance).await.unwrap();
    // Recorded in the same millisecond: the trail keeps the order they were written in.
    let (pending, cancellation) = reviewed(&accepted, RequestStatus::Pending, "owner", None, at(2));
    store.update_request(&pending, &cancellation).await.unwrap();
    let (rejected, rejection) = reviewed(
        &pending,
        RequestStatus::Rejected,
        "owner",
        Some("late"),
        at(2),
    );
    store.update_request(&rejected, &rejection).await.unwrap();
    let withdrawal = withdrawn(&rejected, at(3));
    store.delete_request(&rejected, &withdrawal).await.unwrap();

    assert_eq!(
        store.audit_trail(&m, alice.id).await.unwrap(),
        [
            requested(&alice),
            acceptance,
            cancellation,
            rejection,
            withdrawal
        ]
    );
    assert_eq!(
        store.audit_trail(&m, bob.id).await.unwrap(),
        [requested(&bob)]
    );
    assert_eq!(store.audit_trail(&m, ObjectId::random()).await.unwrap(), []);
}

pub async fn pending_requests_are_found_by_the_day_they_became_pending<S: Store>(store: S) {
    let (m, d) = (model("acme/m"), repo_ref(RepoType::Dataset, "acme/m"));
    given_repo(&store, &m).await;
    given_repo(&store, &d).await;
    given_users(&store, &["alice", "bob", "carol", "dave", "erin"]).await;
    let monday = Day::parse("2026-03-02").unwrap();
    let tuesday = Day::parse("2026-03-03").unwrap();
    let hour =
        |day: Day, hours: i64| Timestamp::from_millis(day.start().millis() + hours * 3_600_000);

    let alice = given_request(&store, &m, "alice", hour(monday, 10)).await;
    let bob = given_request(&store, &d, "bob", hour(monday, 9)).await;
    let carol = given_request(&store, &m, "carol", tuesday.start()).await;
    // Accepted the day it was made: no longer pending, so in no day's list.
    let dave = given_request(&store, &m, "dave", hour(monday, 11)).await;
    let (accepted, acceptance) = reviewed(
        &dave,
        RequestStatus::Accepted,
        "owner",
        None,
        hour(monday, 12),
    );
    store.update_request(&accepted, &acceptance).await.unwrap();
    // Rejected on Monday, moved back to pending on Tuesday: Tuesday's.
    let erin = given_request(&store, &m, "erin", hour(monday, 1)).await;
    let (rejected, rejection) = reviewed(
        &erin,
        RequestStatus::Rejected,
        "owner",
        Some("No"),
        hour(monday, 2),
    );
    store.update_request(&rejected, &rejection).await.unwrap();
    let (reopened, reopening) = reviewed(
        &rejected,
        RequestStatus::Pending,
        "owner",
        None,
        hour(tuesday, 3),
    );
    store.update_request(&reopened, &reopening).await.unwrap();
    // An update that keeps it pending (new answers) keeps the day it became pending.
    let mut still = alice.clone();
    still.version += 1;
    still.updated_at = hour(tuesday, 4);
    still.contact.fullname = "Alice Liddell".into();
    let stays = AuditRecord::changed(
        AuditAction::Requested,
        Some(&alice.user),
        &alice,
        &still,
        still.updated_at,
    );
    store.update_request(&still, &stays).await.unwrap();

    assert_eq!(store.pending_on(monday).await.unwrap(), [bob, still]);
    assert_eq!(store.pending_on(tuesday).await.unwrap(), [carol, reopened]);
    assert_eq!(
        store.pending_on(monday.previous().unwrap()).await.unwrap(),
        []
    );
}

pub async fn a_marker_is_claimed_once_until_released_or_expired<S: Store>(store: S) {
    let later = Timestamp::from_millis(Timestamp::now().millis() + 3_600_000);
    assert!(store.claim_marker("alert#1#1", later).await.unwrap());
    assert!(!store.claim_marker("alert#1#1", later).await.unwrap());
    assert!(store.claim_marker("alert#1#2", later).await.unwrap());

    store.release_marker("alert#1#1").await.unwrap();
    assert!(store.claim_marker("alert#1#1", later).await.unwrap());
    // Releasing what is not claimed is no error.
    store.release_marker("never-claimed").await.unwrap();

    let expired = Timestamp::from_millis(Timestamp::now().millis() - 1_000);
    assert!(
        store
            .claim_marker("digest#2026-03-02", expired)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_marker("digest#2026-03-02", later)
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_marker("digest#2026-03-02", later)
            .await
            .unwrap()
    );
}

pub async fn a_store_is_empty_until_something_is_stored<S: Store>(store: S) {
    assert!(store.is_empty().await.unwrap());
    store.create_organization(&org("acme")).await.unwrap();
    assert!(!store.is_empty().await.unwrap());
}
