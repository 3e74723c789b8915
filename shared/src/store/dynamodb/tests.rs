//! The DynamoDB store against a real DynamoDB engine: AWS's DynamoDB Local, which `tests/run`
//! starts (tests/emulators/) and points the SDK at with `AWS_ENDPOINT_URL_DYNAMODB`.
//!
//! Without that variable these tests print a note and pass, so a plain `cargo test` works on
//! a machine without Java; with `GATEHOUSE_REQUIRE_EMULATORS=1` (as `tests/run` sets) they
//! fail instead.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::{StreamViewType, TimeToLiveStatus};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::*;
use crate::domain::{
    AuditAction, Contact, Email, GateMode, RepoId, RepoType, RequestState, TokenRole, TokenSecret,
};

const ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_DYNAMODB";

/// DynamoDB Local's endpoint, or `None` (after a note) when this run has none.
pub(crate) fn emulator_endpoint() -> Option<String> {
    loopback_emulator(ENDPOINT_VARIABLE)
}

/// The endpoint in `variable`, which must be a loopback address (these tests create and
/// delete tables and buckets: never in a real account), or `None` (after a note) when this
/// run has none, unless `GATEHOUSE_REQUIRE_EMULATORS=1` says it must.
pub(crate) fn loopback_emulator(variable: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(endpoint) if !endpoint.is_empty() => {
            let host = endpoint
                .split("://")
                .nth(1)
                .unwrap_or("")
                .split(['/', ':'])
                .next()
                .unwrap_or("");
            assert!(
                matches!(host, "127.0.0.1" | "localhost" | "[") || host.starts_with("127."),
                "{variable}={endpoint} is not a loopback address; the tests that use it only \
                 run against a local emulator"
            );
            Some(endpoint)
        }
        _ if std::env::var("GATEHOUSE_REQUIRE_EMULATORS").as_deref() == Ok("1") => panic!(
            "GATEHOUSE_REQUIRE_EMULATORS=1 but {variable} is not set: start the emulators \
             with `tests/emulators/start` (tests/run does) and export what it prints"
        ),
        _ => {
            eprintln!(
                "skipped: {variable} is not set, so there is no emulator to test against \
                 (tests/run starts them)"
            );
            None
        }
    }
}

/// The SDK configuration of the store's tests, built the way production builds one
/// (`aws_config` reads the endpoint from the environment), with fixed dummy credentials and
/// region so the SDK never looks further (instance metadata), the standard retry mode with
/// `attempts` tries (and a short backoff), and timeouts so a dead emulator fails a test instead
/// of hanging it.
pub(crate) async fn sdk_config(attempts: u32) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "gatehouse-tests",
        ))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        .load()
        .await
}

async fn client() -> Client {
    Client::new(&sdk_config(4).await)
}

/// Deletes its test's table when the test ends, pass or fail.
pub(super) struct TableGuard {
    pub(super) table: String,
}

impl Drop for TableGuard {
    fn drop(&mut self) {
        let table = std::mem::take(&mut self.table);
        // The test's runtime is busy dropping us: delete from a runtime of our own, with a
        // client of its own (connections belong to the runtime that opened them).
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                client()
                    .await
                    .delete_table()
                    .table_name(&table)
                    .send()
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(deleted, Ok(Some(_))) {
            eprintln!("note: a test table was left behind on DynamoDB Local");
        }
    }
}

/// A store on a new table of its own, or `None` when there is no emulator.
async fn dynamo_store() -> Option<(DynamoStore, TableGuard)> {
    emulator_endpoint()?;
    Some(store_on_new_table(client().await, "gatehouse-test").await)
}

/// A store on a new table named `prefix-<random>`, created now and deleted with the guard.
pub(super) async fn store_on_new_table(client: Client, prefix: &str) -> (DynamoStore, TableGuard) {
    let table = format!("{prefix}-{}", ObjectId::random());
    let store = DynamoStore::new(client, &table, CursorKey::random());
    let guard = TableGuard { table };
    assert!(
        store
            .create_table_if_missing()
            .await
            .expect("create the test table on DynamoDB Local"),
        "a new table"
    );
    (store, guard)
}

crate::store_contract_tests!(with_guard: match dynamo_store().await {
    Some(store_and_guard) => store_and_guard,
    None => return,
});

// ---- fixtures -------------------------------------------------------------------------------

fn name(text: &str) -> Name {
    Name::parse(text).unwrap()
}

fn model(id: &str) -> RepoRef {
    RepoRef::new(RepoType::Model, RepoId::parse(id).unwrap())
}

pub(super) fn user(text: &str) -> User {
    User {
        id: ObjectId::random(),
        name: name(text),
        fullname: text.into(),
        email: None,
        created_at: Timestamp::from_millis(1),
    }
}

pub(super) fn repo(repo: &RepoRef) -> Repo {
    Repo {
        repo: repo.clone(),
        owner: name("acme"),
        visibility: Default::default(),
        gate: GateMode::Manual,
        notifications_mode: Default::default(),
        notifications_email: None,
        requester_emails: true,
        sha: "0".repeat(40),
        front_matter: None,
        created_at: Timestamp::from_millis(1),
        last_modified: Timestamp::from_millis(1),
    }
}

pub(super) fn request(repo: &RepoRef, user: &str, millis: i64) -> (AccessRequest, AuditRecord) {
    let at = Timestamp::from_millis(millis);
    let request = AccessRequest {
        id: ObjectId::random(),
        repo: repo.clone(),
        user: name(user),
        contact: Contact {
            fullname: user.into(),
            email: Some(Email::parse(&format!("{user}@example.com")).unwrap()),
        },
        answers: Default::default(),
        state: RequestState::Pending,
        created_at: at,
        updated_at: at,
        version: 1,
    };
    let audit = AuditRecord::created(AuditAction::Requested, Some(&request.user), &request, at);
    (request, audit)
}

/// A repo with `count` pending requests, one per user.
async fn given_requests(
    store: &DynamoStore,
    repo_ref: &RepoRef,
    count: usize,
) -> Vec<AccessRequest> {
    store.create_repo(&repo(repo_ref)).await.unwrap();
    let mut requests = Vec::new();
    for i in 0..count {
        let requester = format!("user-{i}");
        store.create_user(&user(&requester)).await.ok();
        let (request, audit) = request(repo_ref, &requester, i as i64);
        store
            .insert_request(&request, &audit, NotificationsMode::Bulk)
            .await
            .unwrap();
        requests.push(request);
    }
    requests
}

async fn raw_item(store: &DynamoStore, pk: &str, sk: &str) -> Option<Item> {
    store.get(pk, sk).await.unwrap()
}

// ---- the table ------------------------------------------------------------------------------

#[tokio::test]
async fn the_table_has_its_indexes_stream_billing_and_time_to_live() {
    let Some((store, _guard)) = dynamo_store().await else {
        return;
    };
    let description = table::describe(store.client(), store.table_name())
        .await
        .unwrap()
        .expect("the table exists");

    let mut indexes: Vec<_> = description
        .global_secondary_indexes()
        .iter()
        .map(|index| {
            let keys: Vec<_> = index
                .key_schema()
                .iter()
                .map(|k| k.attribute_name().to_owned())
                .collect();
            let projection = index
                .projection()
                .and_then(|p| p.projection_type())
                .map(|p| p.as_str().to_owned());
            (
                index.index_name().unwrap_or("").to_owned(),
                keys,
                projection,
            )
        })
        .collect();
    indexes.sort();
    let expected: Vec<_> = keys::INDEXES
        .iter()
        .map(|gsi| {
            (
                gsi.name.to_owned(),
                vec![gsi.pk.to_owned(), gsi.sk.to_owned()],
                Some(if gsi.keys_only { "KEYS_ONLY" } else { "ALL" }.to_owned()),
            )
        })
        .collect();
    assert_eq!(indexes, expected);

    let table_keys: Vec<_> = description
        .key_schema()
        .iter()
        .map(|k| k.attribute_name())
        .collect();
    assert_eq!(table_keys, [PK, SK]);
    let stream = description.stream_specification().expect("a stream");
    assert!(stream.stream_enabled());
    assert_eq!(stream.stream_view_type(), Some(&StreamViewType::NewImage));
    assert!(description.latest_stream_arn().is_some());
    assert_eq!(
        description
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str()),
        Some("PAY_PER_REQUEST")
    );

    let ttl = store
        .client()
        .describe_time_to_live()
        .table_name(store.table_name())
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().expect("a TTL description");
    assert_eq!(ttl.attribute_name(), Some(keys::TTL_ATTRIBUTE));
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
}

#[tokio::test]
async fn creating_the_table_again_changes_nothing_and_keeps_the_data() {
    let Some((store, _guard)) = dynamo_store().await else {
        return;
    };
    store.create_user(&user("alice")).await.unwrap();
    assert!(!store.create_table_if_missing().await.unwrap());
    let second = DynamoStore::new(client().await, store.table_name(), CursorKey::random());
    assert!(!second.create_table_if_missing().await.unwrap());
    assert!(second.user(&name("alice")).await.unwrap().is_some());
    assert!(!second.is_empty().await.unwrap());
}

// ---- cursors --------------------------------------------------------------------------------

#[tokio::test]
async fn a_forged_or_tampered_cursor_is_refused() {
    let Some((store, _guard)) = dynamo_store().await else {
        return;
    };
    let m = model("acme/m");
    given_requests(&store, &m, 3).await;
    let first = store.list_requests(&m, None, None, 1).await.unwrap();
    let cursor = first.next.expect("a second page");
    let (payload, tag) = cursor.as_str().split_once('.').unwrap();

    // A client that decodes the key, moves it, and sends it back unsigned or with the old tag.
    let forged_key = serde_json::json!({
        "PK": keys::repo_pk(&m),
        "SK": "REQUEST#user-2",
        "GSI1PK": keys::requests_gsi_pk(&m),
        "GSI1SK": "0",
    });
    let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_key).unwrap());
    let other_first = if tag.starts_with('A') { "B" } else { "A" };
    for text in [
        format!("{forged}.{tag}"),
        forged.clone(),
        format!("{payload}.{other_first}{}", &tag[1..]),
        format!("{payload}x.{tag}"),
    ] {
        let result = store
            .list_requests(&m, None, Some(&Cursor::from_client(&text)), 1)
            .await;
        assert!(
            matches!(result, Err(StoreError::InvalidCursor)),
            "{text}: {result:?}"
        );
    }

    // The same store's own cursor still works, and a store with another key refuses it.
    let second = store
        .list_requests(&m, None, Some(&cursor), 1)
        .await
        .unwrap();
    assert_eq!(second.items.len(), 1);
    let other_key = DynamoStore::new(client().await, store.table_name(), CursorKey::random());
    let result = other_key.list_requests(&m, None, Some(&cursor), 1).await;
    assert!(
        matches!(result, Err(StoreError::InvalidCursor)),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_cursor_from_another_listing_is_refused() {
    let Some((store, _guard)) = dynamo_store().await else {
        return;
    };
    let (m, other) = (model("acme/m"), model("acme/other"));
    given_requests(&store, &m, 3).await;
    store.create_repo(&repo(&other)).await.unwrap();
    let (request, audit) = request(&other, "user-0", 0);
    store
        .insert_request(&request, &audit, NotificationsMode::Bulk)
        .await
        .unwrap();

    let all = store.list_requests(&m, None, None, 1).await.unwrap();
    let all_cursor = all.next.expect("a second page");
    let pending = store
        .list_requests(&m, Some(RequestStatus::Pending), None, 1)
        .await
        .unwrap();
    let pending_cursor = pending.next.expect("a second page");

    for (repo, status, cursor) in [
        (&m, Some(RequestStatus::Pending), &all_cursor),
        (&m, Some(RequestStatus::Accepted), &pending_cursor),
        (&m, None, &pending_cursor),
        (&other, None, &all_cursor),
        (&other, Some(RequestStatus::Pending), &pending_cursor),
    ] {
        let result = store.list_requests(repo, status, Some(cursor), 1).await;
        assert!(
            matches!(result, Err(StoreError::InvalidCursor)),
            "{repo} {status:?}: {result:?}"
        );
    }
    // In their own listings both still work.
    assert!(
        store
            .list_requests(&m, None, Some(&all_cursor), 1)
            .await
            .is_ok()
    );
    assert!(
        store
            .list_requests(&m, Some(RequestStatus::Pending), Some(&pending_cursor), 1)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn pages_stay_exact_when_dynamodb_stops_a_query_at_one_megabyte() {
    let Some((store, _guard)) = dynamo_store().await else {
        return;
    };
    let m = model("acme/big");
    store.create_repo(&repo(&m)).await.unwrap();
    // 30 requests of about 60 KB each: a page of 25 is about 1.5 MB, over the 1 MB a query
    // returns at once, so the store must ask again to fill it.
    let mut expected = Vec::new();
    for i in 0..30 {
        let requester = format!("user-{i}");
        store.create_user(&user(&requester)).await.unwrap();
        let (mut request, audit) = request(&m, &requester, i);
        request.answers = crate::domain::Answers(
            (0..60)
                .map(|n| (format!("Question {n}"), "x".repeat(1000).into()))
                .collect(),
        );
        store
            .insert_request(&request, &audit, NotificationsMode::Bulk)
            .await
            .unwrap();
        expected.push(request.id);
    }
    // The premise: one query for 26 items stops short, with a key to go on from.
    let raw = store
        .query(Some(GSI1), &keys::requests_gsi_pk(&m), None)
        .limit(26)
        .send()
        .await
        .unwrap();
    assert!(raw.items().len() < 26 && raw.last_evaluated_key().is_some());

    let first = store.list_requests(&m, None, None, 25).await.unwrap();
    assert_eq!(first.items.len(), 25);
    let second = store
        .list_requests(&m, None, first.next.as_ref(), 25)
        .await
        .unwrap();
    assert_eq!((second.items.len(), second.next.is_none()), (5, true));
    let listed: Vec<_> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, expected);
}

// ---- keys and indexes -----------------------------------------------------------------------

#[tokio::test]
async fn a_pending_request_is_in_the_pending_by_day_index_until_it_leaves_pending() {
    let Some((store, _guard)) = dynamo_store().await else {
        return;
    };
    let m = model("acme/m");
    let pending = given_requests(&store, &m, 1).await.remove(0);
    let day_of = |item: &Item| {
        (
            item.get(GSI4.pk).and_then(|v| v.as_s().ok()).cloned(),
            item.get(GSI4.sk).and_then(|v| v.as_s().ok()).cloned(),
        )
    };
    let stored = raw_item(&store, &keys::repo_pk(&m), &keys::request_sk(&pending.user))
        .await
        .unwrap();
    let first_day = day_of(&stored);
    assert_eq!(
        first_day.0.as_deref(),
        Some(keys::pending_day_gsi_pk(pending.created_at.day()).as_str())
    );
    let listed = store
        .query_all(
            Some(GSI4),
            keys::pending_day_gsi_pk(pending.created_at.day()),
            None,
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);

    // Still pending after a change that is not a review: it stays on its first day.
    let later = Timestamp::from_millis(5 * 86_400_000);
    let edited = AccessRequest {
        version: 2,
        updated_at: later,
        ..pending.clone()
    };
    let audit = AuditRecord::changed(AuditAction::Granted, None, &pending, &edited, later);
    store.update_request(&edited, &audit).await.unwrap();
    let stored = raw_item(&store, &keys::repo_pk(&m), &keys::request_sk(&pending.user))
        .await
        .unwrap();
    assert_eq!(day_of(&stored), first_day);

    // Accepted: out of the index. Back to pending: in it again, on the day it came back.
    let owner = name("owner");
    let accepted = edited
        .reviewed(RequestStatus::Accepted, &owner, None, later)
        .unwrap();
    let audit = AuditRecord::changed(
        AuditAction::Reviewed,
        Some(&owner),
        &edited,
        &accepted,
        later,
    );
    store.update_request(&accepted, &audit).await.unwrap();
    let stored = raw_item(&store, &keys::repo_pk(&m), &keys::request_sk(&pending.user))
        .await
        .unwrap();
    assert_eq!(day_of(&stored), (None, None));

    let back = accepted
        .reviewed(RequestStatus::Pending, &owner, None, later)
        .unwrap();
    let audit = AuditRecord::changed(AuditAction::Reviewed, Some(&owner), &accepted, &back, later);
    store.update_request(&back, &audit).await.unwrap();
    let stored = raw_item(&store, &keys::repo_pk(&m), &keys::request_sk(&pending.user))
        .await
        .unwrap();
    assert_eq!(
        day_of(&stored).0.as_deref(),
        Some(keys::pending_day_gsi_pk(later.day()).as_str())
    );
    assert_eq!(
        store.access_request(&m, &pending.user).await.unwrap(),
        Some(back)
    );
}

/// What the real-time alert's stream filter criteria (`infra/template.yaml`) and handler
/// (`functions/stream-alerts`) read from a new request's image.
#[tokio::test]
async fn a_new_request_item_carries_what_the_stream_filter_reads() {
    let Some((store, _guard)) = dynamo_store().await else {
        return;
    };
    let m = model("acme/m");
    let first = given_requests(&store, &m, 1).await.remove(0);
    let text = |item: &Item, name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let stored = raw_item(&store, &keys::repo_pk(&m), &keys::request_sk(&first.user))
        .await
        .unwrap();
    for (attribute, value) in [
        ("kind", "request"),
        ("status", "pending"),
        ("notificationsMode", "bulk"),
        ("repoType", "model"),
        ("repoId", "acme/m"),
        ("user", "user-0"),
        ("requestId", first.id.to_string().as_str()),
    ] {
        assert_eq!(
            text(&stored, attribute).as_deref(),
            Some(value),
            "{attribute}"
        );
    }

    // The mode is the repo's when the request is made; a review keeps it.
    let update = SettingsUpdate {
        notifications_mode: Some(NotificationsMode::RealTime),
        ..Default::default()
    };
    store.update_repo_settings(&m, &update).await.unwrap();
    store.create_user(&user("bob")).await.unwrap();
    let (second, audit) = request(&m, "bob", 5);
    store
        .insert_request(&second, &audit, NotificationsMode::RealTime)
        .await
        .unwrap();
    let owner = name("owner");
    let accepted = first
        .reviewed(
            RequestStatus::Accepted,
            &owner,
            None,
            Timestamp::from_millis(9),
        )
        .unwrap();
    let audit = AuditRecord::changed(
        AuditAction::Reviewed,
        Some(&owner),
        &first,
        &accepted,
        accepted.updated_at,
    );
    store.update_request(&accepted, &audit).await.unwrap();
    let modes = [
        raw_item(&store, &keys::repo_pk(&m), &keys::request_sk(&first.user))
            .await
            .unwrap(),
        raw_item(&store, &keys::repo_pk(&m), &keys::request_sk(&second.user))
            .await
            .unwrap(),
    ]
    .map(|item| text(&item, "notificationsMode"));
    assert_eq!(modes, [Some("bulk".into()), Some("real-time".into())]);
}

#[tokio::test]
async fn a_request_needs_its_repo_and_user() {
    let Some((store, _guard)) = dynamo_store().await else {
        return;
    };
    let m = model("acme/m");
    store.create_user(&user("alice")).await.unwrap();
    let (request, audit) = request(&m, "alice", 1);
    let result = store
        .insert_request(&request, &audit, NotificationsMode::Bulk)
        .await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");

    store.create_repo(&repo(&m)).await.unwrap();
    let (request, audit) = self::request(&m, "nobody", 1);
    let result = store
        .insert_request(&request, &audit, NotificationsMode::Bulk)
        .await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
    assert!(store.audit_trail(&m, request.id).await.unwrap().is_empty());
    // An organization's name is not a user.
    store
        .create_organization(&Organization {
            id: ObjectId::random(),
            name: name("acme"),
            fullname: "ACME".into(),
            created_at: Timestamp::from_millis(1),
        })
        .await
        .unwrap();
    let (request, audit) = self::request(&m, "acme", 1);
    let result = store
        .insert_request(&request, &audit, NotificationsMode::Bulk)
        .await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
}

// ---- concurrency ------------------------------------------------------------------------------

#[tokio::test]
async fn of_many_concurrent_reviews_from_the_same_version_exactly_one_wins() {
    let Some((store, _guard)) = dynamo_store().await else {
        return;
    };
    let m = model("acme/m");
    let pending = given_requests(&store, &m, 1).await.remove(0);
    let reviews: Vec<_> = (0..8)
        .map(|i| {
            let reviewer = name(&format!("owner-{i}"));
            let to = if i % 2 == 0 {
                RequestStatus::Accepted
            } else {
                RequestStatus::Rejected
            };
            let at = Timestamp::from_millis(100 + i);
            let after = pending.reviewed(to, &reviewer, None, at).unwrap();
            let audit =
                AuditRecord::changed(AuditAction::Reviewed, Some(&reviewer), &pending, &after, at);
            (after, audit)
        })
        .collect();
    let results = futures::future::join_all(
        reviews
            .iter()
            .map(|(after, audit)| store.update_request(after, audit)),
    )
    .await;
    let winners: Vec<_> = results
        .iter()
        .zip(&reviews)
        .filter(|(result, _)| result.is_ok())
        .map(|(_, review)| review)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(()) | Err(StoreError::Conflict))),
        "{results:?}"
    );
    let (winner, audit) = winners[0];
    assert_eq!(
        store
            .access_request(&m, &pending.user)
            .await
            .unwrap()
            .as_ref(),
        Some(winner)
    );
    let trail = store.audit_trail(&m, pending.id).await.unwrap();
    assert_eq!(trail.len(), 2);
    assert_eq!(&trail[1], audit);
}

#[tokio::test]
async fn members_joining_at_once_all_get_a_place_in_the_join_order() {
    let Some((store, _guard)) = dynamo_store().await else {
        return;
    };
    let acme = name("acme");
    store
        .create_organization(&Organization {
            id: ObjectId::random(),
            name: acme.clone(),
            fullname: "ACME".into(),
            created_at: Timestamp::from_millis(1),
        })
        .await
        .unwrap();
    let names: Vec<_> = (0..12).map(|i| format!("member-{i}")).collect();
    for member in &names {
        store.create_user(&user(member)).await.unwrap();
    }
    let member_names: Vec<Name> = names.iter().map(|n| name(n)).collect();
    let joins = member_names
        .iter()
        .map(|member| store.add_member(&acme, member, OrgRole::Read, Timestamp::from_millis(2)));
    for result in futures::future::join_all(joins).await {
        result.unwrap();
    }
    let mut listed: Vec<_> = store
        .members(&acme)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.user.name.as_str().to_owned())
        .collect();
    assert_eq!(listed.len(), names.len());
    listed.sort();
    let mut expected = names.clone();
    expected.sort();
    assert_eq!(listed, expected);
}

// ---- limits and damage ----------------------------------------------------------------------

#[tokio::test]
async fn writes_over_dynamodb_limits_are_refused_before_the_call_with_a_clear_error() {
    let Some((store, _guard)) = dynamo_store().await else {
        return;
    };
    let m = model("acme/m");
    store.create_repo(&repo(&m)).await.unwrap();
    store.create_user(&user("alice")).await.unwrap();
    let (mut request, audit) = request(&m, "alice", 1);
    request.answers = crate::domain::Answers(vec![("Essay".into(), "x".repeat(500_000).into())]);
    let result = store
        .insert_request(&request, &audit, NotificationsMode::Bulk)
        .await;
    assert!(
        matches!(result, Err(StoreError::TooLarge(ref m)) if m.contains("limit of 409600 bytes")),
        "{result:?}"
    );
    assert_eq!(store.access_request(&m, &request.user).await.unwrap(), None);

    let files = (0..=DynamoStore::MAX_COMMIT_FILES)
        .map(|i| FileEntry {
            path: format!("shard-{i:03}.bin"),
            size: 1,
            oid: "1".repeat(40),
            sha256: "1".repeat(64),
        })
        .collect();
    let commit = NewCommit {
        sha: "2".repeat(40),
        files,
        readme: None,
        at: Timestamp::from_millis(2),
    };
    let result = store.commit(&m, &commit).await;
    assert!(
        matches!(result, Err(StoreError::TooLarge(ref m)) if m.contains("at most 98 files")),
        "{result:?}"
    );
    assert_eq!(store.repo(&m).await.unwrap(), Some(repo(&m)));

    // The most a commit may hold goes through in one transaction: every file, and a README
    // with the most HTML a repo keeps.
    let mut commit = commit;
    commit.files.truncate(DynamoStore::MAX_COMMIT_FILES);
    let prompt = "p".repeat(crate::card::MAX_PROMPT_HTML_BYTES);
    let body = "b".repeat(crate::card::MAX_README_HTML_BYTES - prompt.len());
    commit.readme = Some(crate::store::ReadmeUpdate {
        front_matter: Some("x".repeat(crate::card::MAX_FRONT_MATTER_BYTES)),
        html: crate::domain::ReadmeHtml {
            body: crate::domain::ReadmeBody::Html(body),
            prompt: Some(prompt),
        },
    });
    store.commit(&m, &commit).await.unwrap();
    assert_eq!(
        store.files(&m).await.unwrap().len(),
        DynamoStore::MAX_COMMIT_FILES
    );

    // A token name or lookup key too long to be a key is simply not there.
    let result = store.revoke_token(&name("alice"), &"n".repeat(2000)).await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
}

#[tokio::test]
async fn a_damaged_stored_value_is_a_backend_error_not_a_panic() {
    let Some((store, _guard)) = dynamo_store().await else {
        return;
    };
    let m = model("acme/m");
    let request = given_requests(&store, &m, 1).await.remove(0);
    let mut item = raw_item(&store, &keys::repo_pk(&m), &keys::request_sk(&request.user))
        .await
        .unwrap();
    item.insert("status".into(), s("maybe"));
    store
        .client()
        .put_item()
        .table_name(store.table_name())
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    let result = store.access_request(&m, &request.user).await;
    assert!(
        matches!(result, Err(StoreError::Backend(ref m)) if m.contains("status")),
        "{result:?}"
    );
    let result = store.list_requests(&m, None, None, 10).await;
    assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
}

#[tokio::test]
async fn a_missing_table_is_a_backend_error_not_a_panic() {
    if emulator_endpoint().is_none() {
        return;
    }
    let store = DynamoStore::new(
        client().await,
        "gatehouse-no-such-table",
        CursorKey::random(),
    );
    let result = store.user(&name("alice")).await;
    assert!(
        matches!(result, Err(StoreError::Backend(ref m)) if m.contains("GetItem")),
        "{result:?}"
    );
    let token = TokenRecord {
        user: name("alice"),
        role: TokenRole::Read,
        display_name: "laptop".into(),
        digest: TokenSecret::generate().digest(),
        created_at: Timestamp::from_millis(1),
    };
    let result = store.create_token(&token).await;
    assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
}

#[test]
fn no_request_path_scans() {
    let sources = [
        include_str!("mod.rs"),
        include_str!("items.rs"),
        include_str!("keys.rs"),
        include_str!("cursor.rs"),
        include_str!("error.rs"),
    ];
    for source in sources {
        assert!(!source.contains(&[".sc", "an("].concat()));
        assert!(!source.contains(&["Sc", "anInput"].concat()));
    }
}
