use tempfile::TempDir;

use super::*;
use crate::domain::{AuditAction, Contact, GateMode, RepoId, RepoType, RequestState};

fn temp_store() -> (SqliteStore, TempDir) {
    let dir = TempDir::new().expect("a temporary directory");
    let store = SqliteStore::open(dir.path()).expect("open the store");
    (store, dir)
}

crate::store_contract_tests!(with_guard: temp_store());

fn alice() -> User {
    User {
        id: ObjectId::random(),
        name: Name::parse("alice").unwrap(),
        fullname: "Alice".into(),
        email: None,
        created_at: Timestamp::from_millis(1),
    }
}

fn model() -> RepoRef {
    RepoRef::new(RepoType::Model, RepoId::parse("acme/m").unwrap())
}

fn repo() -> Repo {
    Repo {
        repo: model(),
        owner: Name::parse("acme").unwrap(),
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

fn pending_request() -> (AccessRequest, AuditRecord) {
    let at = Timestamp::from_millis(2);
    let request = AccessRequest {
        id: ObjectId::random(),
        repo: model(),
        user: alice().name,
        contact: Contact {
            fullname: "Alice".into(),
            email: None,
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

/// A connection to the database file that bypasses the store, as a foreign writer would.
fn raw_connection(dir: &TempDir) -> Connection {
    Connection::open(dir.path().join(FILE_NAME)).unwrap()
}

#[tokio::test]
async fn data_survives_closing_and_reopening_the_store() {
    let (store, dir) = temp_store();
    let alice = alice();
    let (request, audit) = pending_request();
    store.create_user(&alice).await.unwrap();
    store.create_repo(&repo()).await.unwrap();
    store
        .insert_request(&request, &audit, NotificationsMode::Bulk)
        .await
        .unwrap();
    drop(store);

    let reopened = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(reopened.user(&alice.name).await.unwrap(), Some(alice));
    assert_eq!(reopened.repo(&model()).await.unwrap(), Some(repo()));
    assert_eq!(
        reopened
            .access_request(&model(), &request.user)
            .await
            .unwrap(),
        Some(request.clone())
    );
    assert_eq!(
        reopened.audit_trail(&model(), request.id).await.unwrap(),
        [audit]
    );
}

#[tokio::test]
async fn opening_an_existing_database_keeps_its_data_and_schema() {
    let (store, dir) = temp_store();
    store.create_user(&alice()).await.unwrap();

    let second = SqliteStore::open(dir.path()).unwrap();
    assert!(!second.is_empty().await.unwrap());
    assert!(!store.is_empty().await.unwrap());
    let version: i64 = raw_connection(&dir)
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, schema::VERSION);
}

#[tokio::test]
async fn a_write_from_a_second_store_on_the_same_directory_is_visible_to_the_first() {
    let (server, dir) = temp_store();
    let alice = alice();
    // The server has already read (and so opened a reader) before the second store writes.
    assert_eq!(server.user(&alice.name).await.unwrap(), None);

    let admin = SqliteStore::open(dir.path()).unwrap();
    admin.create_user(&alice).await.unwrap();
    assert_eq!(server.user(&alice.name).await.unwrap(), Some(alice.clone()));

    // And the other way round, each writing while the other holds its connections open.
    server.create_repo(&repo()).await.unwrap();
    assert_eq!(admin.repo(&model()).await.unwrap(), Some(repo()));
}

#[tokio::test]
async fn a_stored_value_a_foreign_writer_spoiled_reads_back_as_a_store_error() {
    let (store, dir) = temp_store();
    let alice = alice();
    store.create_user(&alice).await.unwrap();
    store.create_repo(&repo()).await.unwrap();
    let spoil = |sql: &str| raw_connection(&dir).execute(sql, []).unwrap();

    spoil("UPDATE users SET email = 'not an address'");
    let error = store.user(&alice.name).await.unwrap_err();
    assert!(
        matches!(error, StoreError::Backend(ref message) if message.contains("email")),
        "{error:?}"
    );

    // STRICT tables keep a column's type, but not the bytes of its text valid UTF-8.
    spoil("UPDATE repos SET owner = CAST(x'ff' AS TEXT)");
    let error = store.repo(&model()).await.unwrap_err();
    assert!(matches!(error, StoreError::Backend(_)), "{error:?}");
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused() {
    let (store, dir) = temp_store();
    drop(store);
    raw_connection(&dir)
        .pragma_update(None, "user_version", schema::VERSION + 1)
        .unwrap();

    let result = SqliteStore::open(dir.path());
    assert!(matches!(result, Err(StoreError::Backend(ref message)) if message.contains("newer")));
}

#[tokio::test]
async fn a_damaged_stored_value_is_a_backend_error_not_a_panic() {
    let (store, dir) = temp_store();
    let (request, audit) = pending_request();
    store.create_user(&alice()).await.unwrap();
    store.create_repo(&repo()).await.unwrap();
    store
        .insert_request(&request, &audit, NotificationsMode::Bulk)
        .await
        .unwrap();

    raw_connection(&dir)
        .execute("UPDATE access_requests SET status = 'maybe'", [])
        .unwrap();
    let result = store.access_request(&model(), &request.user).await;
    assert!(
        matches!(result, Err(StoreError::Backend(ref m)) if m.contains("status")),
        "{result:?}"
    );

    // A rejection without a review is not a state the domain can hold.
    raw_connection(&dir)
        .execute("UPDATE access_requests SET status = 'rejected'", [])
        .unwrap();
    let result = store.list_requests(&model(), None, None, 10).await;
    assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
}

#[tokio::test]
async fn many_concurrent_reads_share_the_small_reader_pool() {
    let (store, _dir) = temp_store();
    store.create_user(&alice()).await.unwrap();
    let name = alice().name;

    let reads = (0..32).map(|_| store.user(&name));
    let users = futures::future::join_all(reads).await;

    assert!(users.iter().all(|user| matches!(user, Ok(Some(_)))));
    assert!(store.inner.idle_readers.lock().unwrap().len() <= MAX_READERS);
}

#[tokio::test]
async fn a_reader_left_inside_a_transaction_is_dropped_rather_than_reused() {
    let (store, _dir) = temp_store();
    store.create_user(&alice()).await.unwrap();
    store
        .inner
        .with_reader(|db| Ok(db.execute_batch("BEGIN; SELECT count(*) FROM users;")?))
        .unwrap();
    // A write after it: a reused reader would still see its old snapshot, without bob.
    let mut bob = alice();
    bob.name = Name::parse("bob").unwrap();
    bob.id = ObjectId::random();
    store.create_user(&bob).await.unwrap();
    assert_eq!(store.user(&bob.name).await.unwrap(), Some(bob));
    store
        .inner
        .with_reader(|db| {
            assert!(
                db.is_autocommit(),
                "the reader in the pool is outside any transaction"
            );
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn a_page_is_an_index_range_not_a_scan() {
    let (store, _dir) = temp_store();
    let db = store.inner.writer.lock().unwrap();
    for by_status in [false, true] {
        let sql = format!("EXPLAIN QUERY PLAN {}", list_sql(by_status));
        let mut statement = db.prepare(&sql).unwrap();
        let params = params![1, 2, 3, 4, 5, 6];
        let plan: Vec<String> = statement
            .query_map(&params[..if by_status { 6 } else { 5 }], |row| row.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = plan.join("\n");
        let index = if by_status {
            "access_requests_by_status"
        } else {
            "access_requests_by_time"
        };
        assert!(
            plan.contains(&format!("SEARCH access_requests USING INDEX {index}")),
            "{plan}"
        );
        assert!(
            !plan.contains("TEMP B-TREE"),
            "the index gives the order: {plan}"
        );
    }
}

#[tokio::test]
async fn the_change_feed_delivers_each_inserted_request_once_in_order_from_a_saved_position() {
    let seed = "
users: [{name: owner}, {name: r1}, {name: r2}, {name: r3}]
repos: [{id: owner/m, gated: manual}]
requests:
  - {repo: owner/m, user: r1, status: pending}
  - {repo: owner/m, user: r2, status: pending}
";
    let (store, _dir) = crate::seed::seeded_sqlite(seed).await;
    let (first, position) = store.inserted_requests_after(0, 100).await.unwrap();
    let users: Vec<_> = first.iter().map(|(_, r)| r.user.to_string()).collect();
    assert_eq!(users, ["r1", "r2"]);
    assert_eq!(position, first[1].0);
    assert!(first[0].0 < first[1].0);
    // Nothing new: the same position back.
    assert_eq!(
        store.inserted_requests_after(position, 100).await.unwrap(),
        (vec![], position)
    );

    // A review is a change, not an insertion; a withdrawn request is gone from the feed.
    let (_, r1) = &first[0];
    let owner = Name::parse("owner").unwrap();
    let accepted = r1
        .reviewed(RequestStatus::Accepted, &owner, None, Timestamp::now())
        .unwrap();
    let review = AuditRecord::changed(
        AuditAction::Reviewed,
        Some(&owner),
        r1,
        &accepted,
        accepted.updated_at,
    );
    store.update_request(&accepted, &review).await.unwrap();
    let r3 = AccessRequest {
        id: ObjectId::random(),
        user: Name::parse("r3").unwrap(),
        version: 1,
        ..r1.clone()
    };
    let asked = AuditRecord::created(AuditAction::Requested, Some(&r3.user), &r3, r3.created_at);
    store
        .insert_request(&r3, &asked, NotificationsMode::Bulk)
        .await
        .unwrap();
    let (next, after_all) = store.inserted_requests_after(position, 100).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].1, r3);
    let withdrawal = AuditRecord::removed(
        AuditAction::Withdrawn,
        Some(&r3.user),
        &r3,
        Timestamp::now(),
    );
    store.delete_request(&r3, &withdrawal).await.unwrap();
    assert_eq!(
        store
            .inserted_requests_after(position, 100)
            .await
            .unwrap()
            .0,
        []
    );

    // A page looks at no more audit records than asked, and says where to go on.
    let (page, partway) = store.inserted_requests_after(0, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(partway, page[0].0);

    assert_eq!(store.feed_position("alerts").await.unwrap(), 0);
    store.save_feed_position("alerts", after_all).await.unwrap();
    store
        .save_feed_position("alerts", after_all + 1)
        .await
        .unwrap();
    assert_eq!(store.feed_position("alerts").await.unwrap(), after_all + 1);
}

#[tokio::test]
async fn the_audit_feed_delivers_every_change_in_order() {
    let seed = "
users: [{name: owner}, {name: r1}]
repos: [{id: owner/m, gated: manual}]
requests: [{repo: owner/m, user: r1, status: pending}]
";
    let (store, _dir) = crate::seed::seeded_sqlite(seed).await;
    let (first, position) = store.audit_records_after(0, 100).await.unwrap();
    assert_eq!(first.len(), 1);
    let request = store
        .access_request(&first[0].1.repo, &first[0].1.user)
        .await
        .unwrap()
        .unwrap();
    let owner = Name::parse("owner").unwrap();
    let rejected = request
        .reviewed(
            RequestStatus::Rejected,
            &owner,
            Some("No".into()),
            Timestamp::now(),
        )
        .unwrap();
    let review = AuditRecord::changed(
        AuditAction::Reviewed,
        Some(&owner),
        &request,
        &rejected,
        rejected.updated_at,
    );
    store.update_request(&rejected, &review).await.unwrap();

    let (next, reached) = store.audit_records_after(position, 100).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].1, review);
    assert!(next[0].0 > position && reached == next[0].0);
    assert_eq!(
        store.audit_records_after(reached, 100).await.unwrap(),
        (vec![], reached)
    );
}
