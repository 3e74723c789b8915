//! Handler tests: real requests through `api::handle`, over the embedded store.

use std::sync::Arc;

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{App, DEFAULT_VIEWER_COUNTRY_HEADER, handle};
use crate::blobs::LocalBlobs;
use crate::domain::{Name, RepoId, RepoRef, RepoType, RequestStatus};
use crate::seed::seeded_sqlite;
use crate::store::Store;

const OWNER: &str = "hf_owner_write_000000000";
const OWNER_READ: &str = "hf_owner_read_0000000000";
const READER: &str = "hf_reader_write_00000000";
const ALICE: &str = "hf_alice_read_0000000000";
const BOB: &str = "hf_bob_read_000000000000";

const SEED: &str = r#"
users:
  - {name: owner, fullname: Olga Owner, email: owner@example.com}
  - {name: reader, fullname: Read Member, email: reader@example.com}
  - {name: alice, fullname: Alice A, email: alice@example.com}
  - {name: bob, fullname: "=cmd|' /C calc'!A0", email: bob@example.com}
orgs:
  - {name: org, fullname: The Org, members: [{user: owner, role: admin}, {user: reader, role: read}]}
tokens:
  - {user: owner, role: write, name: ci-token, value: hf_owner_write_000000000}
  - {user: owner, role: read, name: read-token, value: hf_owner_read_0000000000}
  - {user: reader, role: write, name: rw, value: hf_reader_write_00000000}
  - {user: alice, role: read, name: alice-read, value: hf_alice_read_0000000000}
  - {user: bob, role: read, name: bob-read, value: hf_bob_read_000000000000}
repos:
  - id: org/manual
    gated: manual
    readme: "---\nextra_gated_fields:\n  Company: text\n  Use:\n    type: select\n    options: [research, {label: Other, value: other}]\n  I agree: checkbox\n---\n# M\n"
    files: {config.json: "{}"}
  - id: org/auto
    gated: auto
    readme: "---\nextra_gated_fields:\n  Company: text\n---\n"
  - {id: org/open, files: {weights/model.bin: "0123456789", weights/extra/a.txt: "a", notes.txt: "n"}}
  - {id: org/secret, private: true, gated: manual}
  - {id: org/broken, gated: manual, readme: "---\nextra_gated_fields:\n  X: ip_location\n---\n"}
  - {id: org/d, type: dataset, gated: manual}
  - id: org/eu
    gated: manual
    readme: "---\nextra_gated_eu_disallowed: true\nextra_gated_fields:\n  Company: text\n---\n"
  - {id: org/eu-open, readme: "---\nextra_gated_eu_disallowed: true\n---\n"}
"#;

struct Server {
    app: App,
    _dir: tempfile::TempDir,
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
    raw: bytes::Bytes,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn server() -> Server {
    let (store, dir) = seeded_sqlite(SEED).await;
    let blobs = LocalBlobs::new(dir.path().join("blobs"));
    Server {
        app: App {
            store: Arc::new(store),
            public_url: None,
            viewer_country_header: DEFAULT_VIEWER_COUNTRY_HEADER,
            blobs: Some(Arc::new(blobs)),
            session_key: crate::web::SessionKey::for_tests(),
        },
        _dir: dir,
    }
}

impl Server {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        match body {
            Some(value) => {
                let json = value.to_string();
                self.raw(method, path, token, Some("application/json"), &json)
                    .await
            }
            None => self.raw(method, path, token, None, "").await,
        }
    }

    /// A request with a body sent as it is, under any content type (or none).
    async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: &str,
    ) -> Answer {
        let mut builder = request(method, path, token);
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        let body = if body.is_empty() {
            lambda_http::Body::Empty
        } else {
            lambda_http::Body::Text(body.to_owned())
        };
        self.send(builder.body(body).unwrap()).await
    }

    /// A request from a viewer whose location header names `country`.
    async fn call_from(
        &self,
        country: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut builder = request(method, path, token).header("cloudfront-viewer-country", country);
        let body = match body {
            Some(value) => {
                builder = builder.header("content-type", "application/json");
                lambda_http::Body::Text(value.to_string())
            }
            None => lambda_http::Body::Empty,
        };
        self.send(builder.body(body).unwrap()).await
    }

    async fn send(&self, request: lambda_http::Request) -> Answer {
        let response = handle(&self.app, request).await;
        let (parts, body) = response.into_parts();
        let raw = body.collect().await.unwrap();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
            raw,
        }
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.call(Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.call(Method::POST, path, token, Some(body)).await
    }

    async fn ask(&self, repo: &str, token: &str) -> Answer {
        let fields = json!({"Company": "ACME", "Use": "other", "I agree": true});
        self.post(
            &format!("/{repo}/ask-access"),
            Some(token),
            json!({ "fields": fields }),
        )
        .await
    }

    fn store(&self) -> &dyn Store {
        self.app.store.as_ref()
    }
}

fn request(method: Method, path: &str, token: Option<&str>) -> http::request::Builder {
    let builder = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1:7777");
    match token {
        Some(token) => builder.header("authorization", format!("Bearer {token}")),
        None => builder,
    }
}

fn model(id: &str) -> RepoRef {
    RepoRef::new(RepoType::Model, RepoId::parse(id).unwrap())
}

#[tokio::test]
async fn whoami_answers_the_full_hub_shape() {
    let server = server().await;
    let answer = server.get("/api/whoami-v2", Some(OWNER)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["name"], "owner");
    assert_eq!(answer.body["type"], "user");
    assert_eq!(answer.body["orgs"][0]["name"], "org");
    assert_eq!(answer.body["orgs"][0]["roleInOrg"], "admin");
    assert_eq!(
        answer.body["auth"]["accessToken"]["displayName"],
        "ci-token"
    );
    assert_eq!(answer.body["auth"]["accessToken"]["role"], "write");
}

#[tokio::test]
async fn a_bad_or_missing_token_is_401_with_a_message() {
    let server = server().await;
    for token in [Some("hf_not_a_known_token_0000"), Some("x"), None] {
        let answer = server.get("/api/whoami-v2", token).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert!(answer.header("x-error-message").is_some());
        assert!(answer.body["error"].is_string());
    }
}

/// The repo's read checks the token: a token no one has is refused as invalid before
/// anything about the repo is told, whether it exists, is private or is a download.
#[tokio::test]
async fn an_unknown_token_is_refused_as_invalid_whatever_the_repo() {
    let server = server().await;
    let unknown = Some("hf_not_a_known_token_0000");
    let refused = server.get("/api/whoami-v2", unknown).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let answers = [
        server.get("/api/models/org/manual", unknown).await,
        server.get("/api/models/org/missing", unknown).await,
        server
            .get("/api/models/org/secret/auth-check", unknown)
            .await,
        server
            .get("/org/manual/resolve/main/config.json", unknown)
            .await,
        server
            .get("/org/missing/resolve/main/config.json", unknown)
            .await,
        server
            .get("/api/models/org/manual/revision/main", unknown)
            .await,
        server
            .post(
                "/api/models/org/manual/user-access-request/handle",
                unknown,
                json!({"user": "bob", "status": "accepted"}),
            )
            .await,
    ];
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "call {i}");
        assert_eq!(answer.body, refused.body, "call {i}");
    }
    let head = server
        .call(
            Method::HEAD,
            "/org/manual/resolve/main/config.json",
            unknown,
            None,
        )
        .await;
    assert_eq!(head.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        head.header("x-error-message"),
        refused.header("x-error-message")
    );
}

/// No route deletes a user, but a token must not outlive its user: whatever it is used for
/// (whoami, a repo that exists or not, a review), it is refused like a token that never was.
#[tokio::test]
async fn a_token_whose_user_is_gone_is_refused_as_invalid_on_every_route() {
    let server = server().await;
    // Behind the store's back: its tokens and memberships stay.
    let db = rusqlite::Connection::open(server._dir.path().join("gatehouse.sqlite3")).unwrap();
    db.pragma_update(None, "foreign_keys", false).unwrap();
    db.execute("DELETE FROM users WHERE name = 'alice'", [])
        .unwrap();
    let unknown = server
        .get("/api/whoami-v2", Some("hf_not_a_known_token_0000"))
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);

    let review = json!({"user": "bob", "status": "accepted"});
    let answers = [
        server.get("/api/whoami-v2", Some(ALICE)).await,
        server.get("/api/models/org/manual", Some(ALICE)).await,
        server
            .get("/api/models/org/manual/auth-check", Some(ALICE))
            .await,
        server
            .get("/api/models/org/missing/auth-check", Some(ALICE))
            .await,
        server.ask("org/manual", ALICE).await,
        server
            .get("/api/models/org/manual/user-access-request/me", Some(ALICE))
            .await,
        server
            .post(
                "/api/models/org/manual/user-access-request/handle",
                Some(ALICE),
                review,
            )
            .await,
    ];
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "call {i}");
        assert_eq!(answer.body, unknown.body, "call {i}");
    }
}

#[tokio::test]
async fn repo_info_is_open_for_gated_repos_and_hidden_for_private_ones() {
    let server = server().await;
    let info = server.get("/api/models/org/manual", None).await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(info.body["gated"], "manual");
    assert_eq!(info.body["sha"].as_str().unwrap().len(), 40);
    assert!(info.body["cardData"]["extra_gated_fields"].is_object());
    let files: Vec<&str> = info.body["siblings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rfilename"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["README.md", "config.json"]);
    assert!(info.body.get("gatedNotificationsMode").is_none());

    let hidden = server.get("/api/models/org/secret", None).await;
    assert_eq!(hidden.status, StatusCode::UNAUTHORIZED);
    assert_eq!(hidden.header("x-error-code"), Some("RepoNotFound"));
    let hidden = server.get("/api/models/org/secret", Some(ALICE)).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(
        server
            .get("/api/models/org/secret", Some(OWNER))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn managers_see_notification_settings_and_card_errors() {
    let server = server().await;
    let info = server.get("/api/models/org/broken", Some(OWNER)).await;
    assert_eq!(info.body["gatedNotificationsMode"], "bulk");
    assert!(
        info.body["cardError"]
            .as_str()
            .unwrap()
            .contains("ip_location")
    );
    let as_reader = server.get("/api/models/org/broken", Some(READER)).await;
    assert!(as_reader.body.get("cardError").is_none());
}

#[tokio::test]
async fn auth_check_gives_each_gated_state_its_hub_message() {
    let server = server().await;
    let path = "/api/models/org/manual/auth-check";
    let anonymous = server.get(path, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.header("x-error-code"), Some("GatedRepo"));
    let stranger = server.get(path, Some(ALICE)).await;
    assert_eq!(stranger.status, StatusCode::FORBIDDEN);
    assert_eq!(
        stranger.header("x-error-message").unwrap(),
        "Access to model org/manual is restricted and you are not in the authorized list. Visit http://127.0.0.1:7777/org/manual to ask for access."
    );
    server.ask("org/manual", ALICE).await;
    let pending = server.get(path, Some(ALICE)).await;
    assert!(
        pending
            .header("x-error-message")
            .unwrap()
            .contains("awaiting a review")
    );
    server
        .post(
            "/api/models/org/manual/user-access-request/handle",
            Some(OWNER),
            json!({"user": "alice", "status": "rejected"}),
        )
        .await;
    let rejected = server.get(path, Some(ALICE)).await;
    assert!(
        rejected
            .header("x-error-message")
            .unwrap()
            .contains("has been rejected")
    );
    assert_eq!(
        server.get(path, Some(OWNER_READ)).await.status,
        StatusCode::OK
    );
    let write = server
        .get("/api/models/org/manual/auth-check/write", Some(OWNER_READ))
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    assert!(write.header("x-error-code").is_none());
    let missing = server
        .get("/api/models/org/missing/auth-check", Some(ALICE))
        .await;
    assert_eq!(missing.header("x-error-code"), Some("RepoNotFound"));
}

#[tokio::test]
async fn settings_change_all_at_once_or_not_at_all() {
    let server = server().await;
    let path = "/api/models/org/open/settings";
    let bad = server
        .call(
            Method::PUT,
            path,
            Some(OWNER),
            Some(json!({"gated": "auto", "visibility": "secret"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        server
            .store()
            .repo(&model("org/open"))
            .await
            .unwrap()
            .unwrap()
            .gate,
        crate::domain::GateMode::Off
    );
    let good = server
        .call(
            Method::PUT,
            path,
            Some(OWNER),
            Some(json!({"gated": "auto", "gatedNotificationsMode": "real-time"})),
        )
        .await;
    assert_eq!(good.status, StatusCode::OK);
    assert_eq!(good.body["gated"], "auto");
    assert_eq!(good.body["gatedNotificationsMode"], "real-time");
    let forbidden = [
        (Some(OWNER_READ), StatusCode::FORBIDDEN),
        (Some(READER), StatusCode::FORBIDDEN),
        (Some(ALICE), StatusCode::FORBIDDEN),
        (None, StatusCode::UNAUTHORIZED),
    ];
    for (token, status) in forbidden {
        let answer = server
            .call(Method::PUT, path, token, Some(json!({"gated": false})))
            .await;
        assert_eq!(answer.status, status, "{token:?}");
    }
}

#[tokio::test]
async fn asking_in_auto_mode_is_accepted_at_once_and_in_manual_mode_waits() {
    let server = server().await;
    let auto = server
        .post(
            "/org/auto/ask-access",
            Some(ALICE),
            json!({"fields": {"Company": "ACME"}}),
        )
        .await;
    assert_eq!(auto.status, StatusCode::OK);
    assert_eq!(auto.body["status"], "accepted");
    assert_eq!(
        server
            .get("/api/models/org/auto/auth-check", Some(ALICE))
            .await
            .status,
        StatusCode::OK
    );
    let manual = server.ask("org/manual", ALICE).await;
    assert_eq!(manual.body["status"], "pending");
    assert_eq!(
        manual.body["fields"],
        json!({"Company": "ACME", "Use": "other", "I agree": true})
    );
    assert_eq!(
        server.ask("org/manual", ALICE).await.status,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn invalid_answers_are_refused_field_by_field_and_nothing_is_stored() {
    let server = server().await;
    let answer = server
        .post(
            "/org/manual/ask-access",
            Some(ALICE),
            json!({"fields": {"Company": "", "Use": "nope", "I agree": false}}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let labels: Vec<&str> = answer.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels.len(), 3, "{labels:?}");
    let alice = Name::parse("alice").unwrap();
    assert!(
        server
            .store()
            .access_request(&model("org/manual"), &alice)
            .await
            .unwrap()
            .is_none()
    );
}

/// The form caps every answer, so only a full name stored before names had a limit makes a
/// request too large to store: the store refuses it, and nothing is stored.
#[tokio::test]
async fn a_request_too_large_to_store_is_a_413_with_a_message_and_stores_nothing() {
    use crate::domain::{ObjectId, Timestamp, TokenRole, TokenSecret, User};
    use crate::service::repos::{NewRepo, commit_files, create_repo};
    use crate::store::TokenRecord;

    let server = server().await;
    let store = server.store();
    let essayist = User {
        id: ObjectId::random(),
        name: Name::parse("essayist").unwrap(),
        fullname: "x".repeat(200_000),
        email: None,
        created_at: Timestamp::now(),
    };
    store.create_user(&essayist).await.unwrap();
    let secret = "hf_essayist_read_0000000";
    let token = TokenRecord {
        user: essayist.name.clone(),
        role: TokenRole::Read,
        display_name: "read".into(),
        digest: TokenSecret::parse(secret).unwrap().digest(),
        created_at: Timestamp::now(),
    };
    store.create_token(&token).await.unwrap();

    let long = model("org/long");
    let labels: Vec<String> = (0..crate::card::MAX_FIELDS)
        .map(|i| format!("Q{i}"))
        .collect();
    let readme = format!(
        "---\nextra_gated_fields:\n{}---\n",
        labels
            .iter()
            .map(|label| format!("  {label}: text\n"))
            .collect::<String>()
    );
    let new = NewRepo {
        repo: long.clone(),
        owner: None,
        visibility: Default::default(),
        gate: crate::domain::GateMode::Manual,
        notifications_mode: Default::default(),
        notifications_email: None,
        requester_emails: true,
    };
    create_repo(store, new).await.unwrap();
    let blobs_dir = tempfile::tempdir().unwrap();
    let blobs = LocalBlobs::new(blobs_dir.path());
    let files = vec![("README.md".to_owned(), bytes::Bytes::from(readme))];
    commit_files(store, &blobs, &long, files).await.unwrap();

    let longest = "\u{1D538}".repeat(crate::card::MAX_TEXT_ANSWER_CHARS);
    let fields: serde_json::Map<String, Value> = labels
        .into_iter()
        .map(|label| (label, json!(longest)))
        .collect();
    let answer = server
        .post(
            "/org/long/ask-access",
            Some(secret),
            json!({ "fields": fields }),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{:?}",
        answer.body
    );
    let message = answer.header("x-error-message").unwrap();
    assert!(
        message.starts_with("the access request is") && message.contains("409600 bytes"),
        "{message}"
    );
    assert_eq!(answer.body["error"], message);
    assert!(
        store
            .access_request(&long, &essayist.name)
            .await
            .unwrap()
            .is_none()
    );
    let own = server
        .get("/api/models/org/long/user-access-request/me", Some(secret))
        .await;
    assert_eq!(own.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_browser_form_post_is_redirected_to_the_repo_page() {
    let server = server().await;
    let form = Some("application/x-www-form-urlencoded");
    let answer = server
        .raw(
            Method::POST,
            "/datasets/org/d/ask-access",
            Some(ALICE),
            form,
            "",
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.header("location"), Some("/datasets/org/d"));
}

#[tokio::test]
async fn a_bad_card_is_a_clear_conflict_for_requesters() {
    let server = server().await;
    let answer = server
        .post("/org/broken/ask-access", Some(ALICE), json!({"fields": {}}))
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert!(
        answer.body["error"]
            .as_str()
            .unwrap()
            .contains("misconfigured")
    );
}

#[tokio::test]
async fn a_request_keeps_its_id_through_every_review_and_a_rejected_user_cannot_ask_again() {
    let server = server().await;
    let id = server.ask("org/manual", ALICE).await.body["requestId"].clone();
    let handle = "/api/models/org/manual/user-access-request/handle";
    for (body, status) in [
        (
            json!({"requestId": id, "status": "accepted"}),
            StatusCode::OK,
        ),
        (
            json!({"user": "alice", "status": "accepted"}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"user": "alice", "status": "pending"}),
            StatusCode::OK,
        ),
        (
            json!({"user": "alice", "status": "rejected", "rejectionReason": "not eligible"}),
            StatusCode::OK,
        ),
    ] {
        assert_eq!(
            server.post(handle, Some(OWNER), body.clone()).await.status,
            status,
            "{body}"
        );
    }
    let rejected = server
        .get(
            "/api/models/org/manual/user-access-request/rejected",
            Some(OWNER),
        )
        .await;
    assert_eq!(rejected.body[0]["requestId"], id);
    let me = server
        .get("/api/models/org/manual/user-access-request/me", Some(ALICE))
        .await;
    assert_eq!(me.body["rejectionReason"], "not eligible");
    let again = server.ask("org/manual", ALICE).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(again.body["error"].as_str().unwrap().contains("rejected"));
    let trail = server
        .store()
        .audit_trail(
            &model("org/manual"),
            crate::domain::ObjectId::parse(id.as_str().unwrap()).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(trail.len(), 4);
}

#[tokio::test]
async fn bad_handle_bodies_are_refused_and_change_nothing() {
    let server = server().await;
    server.ask("org/manual", ALICE).await;
    let handle = "/api/models/org/manual/user-access-request/handle";
    for (token, body, status) in [
        (
            OWNER,
            json!({"user": "alice", "status": "rejected", "rejectionReason": "x".repeat(201)}),
            StatusCode::BAD_REQUEST,
        ),
        (
            OWNER,
            json!({"user": "alice", "status": "accepted", "rejectionReason": "why"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            OWNER,
            json!({"user": "alice", "requestId": "0123456789abcdef01234567", "status": "accepted"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            OWNER,
            json!({"status": "accepted"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            OWNER,
            json!({"user": "alice", "status": "approved"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            OWNER,
            json!({"user": "nobody", "status": "accepted"}),
            StatusCode::NOT_FOUND,
        ),
        (
            OWNER,
            json!({"user": "bob", "status": "accepted"}),
            StatusCode::NOT_FOUND,
        ),
        (
            OWNER_READ,
            json!({"user": "alice", "status": "accepted"}),
            StatusCode::FORBIDDEN,
        ),
        (
            READER,
            json!({"user": "alice", "status": "accepted"}),
            StatusCode::FORBIDDEN,
        ),
    ] {
        assert_eq!(
            server.post(handle, Some(token), body.clone()).await.status,
            status,
            "{body}"
        );
    }
    let not_json = server
        .raw(Method::POST, handle, Some(OWNER), None, "{not json")
        .await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let malformed = server
        .raw(
            Method::POST,
            handle,
            Some(OWNER),
            Some("application/json; charset=utf-8"),
            "{not json",
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let alice = Name::parse("alice").unwrap();
    let request = server
        .store()
        .access_request(&model("org/manual"), &alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (request.status(), request.version),
        (RequestStatus::Pending, 1)
    );
}

#[tokio::test]
async fn two_reviewers_acting_at_once_change_the_request_once() {
    let server = server().await;
    server.ask("org/manual", ALICE).await;
    let handle = "/api/models/org/manual/user-access-request/handle";
    let (accept, reject) = tokio::join!(
        server.post(
            handle,
            Some(OWNER),
            json!({"user": "alice", "status": "accepted"})
        ),
        server.post(
            handle,
            Some(OWNER),
            json!({"user": "alice", "status": "rejected"})
        ),
    );
    let statuses = [accept.status, reject.status];
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    let alice = Name::parse("alice").unwrap();
    let request = server
        .store()
        .access_request(&model("org/manual"), &alice)
        .await
        .unwrap()
        .unwrap();
    let trail = server
        .store()
        .audit_trail(&model("org/manual"), request.id)
        .await
        .unwrap();
    assert_eq!(
        trail.len() as u64,
        request.version,
        "one audit record per change"
    );
}

#[tokio::test]
async fn grant_gives_access_once_with_no_email() {
    let server = server().await;
    let grant = "/api/models/org/manual/user-access-request/grant";
    let first = server
        .post(grant, Some(OWNER), json!({"user": "alice"}))
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["user"]["email"], Value::Null);
    assert_eq!(
        server
            .post(grant, Some(OWNER), json!({"user": "alice"}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        server
            .post(grant, Some(OWNER), json!({"user": "ghost"}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let open = server
        .post(
            "/api/models/org/open/user-access-request/grant",
            Some(OWNER),
            json!({"user": "alice"}),
        )
        .await;
    assert_eq!(open.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_withdrawn_request_can_be_made_again_but_a_rejected_one_cannot_be_withdrawn() {
    let server = server().await;
    let cancel = "/api/models/org/manual/user-access-request/cancel";
    assert_eq!(
        server.post(cancel, Some(ALICE), json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    server.ask("org/manual", ALICE).await;
    let withdrawn = server.post(cancel, Some(ALICE), json!({})).await;
    assert_eq!(
        (withdrawn.status, withdrawn.body.clone()),
        (StatusCode::OK, json!({"ok": true}))
    );
    assert_eq!(server.ask("org/manual", ALICE).await.status, StatusCode::OK);
    server
        .post(
            "/api/models/org/manual/user-access-request/handle",
            Some(OWNER),
            json!({"user": "alice", "status": "rejected"}),
        )
        .await;
    assert_eq!(
        server.post(cancel, Some(ALICE), json!({})).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn listings_page_by_100_with_an_absolute_next_link() {
    let server = server().await;
    let grant = "/api/models/org/manual/user-access-request/grant";
    for i in 0..130 {
        let name = format!("user{i}");
        let user = crate::domain::User {
            id: crate::domain::ObjectId::random(),
            name: Name::parse(&name).unwrap(),
            fullname: name.clone(),
            email: None,
            created_at: crate::domain::Timestamp::now(),
        };
        server.store().create_user(&user).await.unwrap();
        server.post(grant, Some(OWNER), json!({"user": name})).await;
    }
    let first = server
        .get(
            "/api/models/org/manual/user-access-request/accepted",
            Some(OWNER),
        )
        .await;
    assert_eq!(first.body.as_array().unwrap().len(), 100);
    let link = first.header("link").unwrap();
    assert!(
        link.starts_with(
            "<http://127.0.0.1:7777/api/models/org/manual/user-access-request/accepted?cursor="
        ),
        "{link}"
    );
    let next = link
        .trim_start_matches("<http://127.0.0.1:7777")
        .split('>')
        .next()
        .unwrap();
    let second = server.get(next, Some(OWNER)).await;
    assert_eq!(second.body.as_array().unwrap().len(), 30);
    assert!(second.header("link").is_none());
    let forged = server
        .get(
            "/api/models/org/manual/user-access-request/accepted?cursor=garbage!",
            Some(OWNER),
        )
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    let not_gated = server
        .get(
            "/api/models/org/open/user-access-request/pending",
            Some(OWNER),
        )
        .await;
    assert_eq!(not_gated.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_report_neutralizes_formulas_and_lists_every_answer() {
    let server = server().await;
    server.ask("org/manual", BOB).await;
    server.ask("org/manual", ALICE).await;
    let csv = server
        .get(
            "/api/models/org/manual/user-access-request/report?format=csv",
            Some(OWNER),
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    let text = String::from_utf8(csv.raw.to_vec()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "user,fullname,email,status,time,reviewedAt,reviewer,rejectionReason,Company,Use,I agree"
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("bob,'=cmd|' /C calc'!A0,bob@example.com,pending,")
    );
    let json = server
        .get(
            "/api/models/org/manual/user-access-request/report",
            Some(OWNER),
        )
        .await;
    assert_eq!(json.body.as_array().unwrap().len(), 2);
    assert_eq!(json.body[1]["fields"]["Company"], "ACME");
    assert_eq!(json.body[1]["reviewedAt"], Value::Null);
    let reader = server
        .get(
            "/api/models/org/manual/user-access-request/report",
            Some(READER),
        )
        .await;
    assert_eq!(reader.status, StatusCode::FORBIDDEN);
    let bad = server
        .get(
            "/api/models/org/manual/user-access-request/report?format=xlsx",
            Some(OWNER),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_paths_wrong_methods_and_oversized_bodies_are_4xx() {
    let server = server().await;
    assert_eq!(
        server.get("/api/foos/org/m", None).await.status,
        StatusCode::NOT_FOUND
    );
    let wrong = server
        .call(Method::DELETE, "/api/models/org/manual", Some(OWNER), None)
        .await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong.body["error"].is_string());
    let huge = "x".repeat(crate::api::MAX_BODY_BYTES + 1);
    let big = server
        .post(
            "/org/manual/ask-access",
            Some(ALICE),
            json!({"fields": {"Company": huge}}),
        )
        .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    let head = server
        .call(
            Method::HEAD,
            "/api/models/org/secret/auth-check",
            None,
            None,
        )
        .await;
    assert_eq!(head.status, StatusCode::UNAUTHORIZED);
    assert!(head.raw.is_empty());
}

const EU_REFUSAL: &str = "Access to model org/eu is restricted in your region: its authors do not allow access from the European Union.";

fn company() -> Value {
    json!({"fields": {"Company": "ACME"}})
}

#[tokio::test]
async fn a_viewer_in_the_eu_is_refused_on_ask_access_and_auth_check_and_nothing_is_stored() {
    let server = server().await;
    let ask = server
        .call_from(
            "FR",
            Method::POST,
            "/org/eu/ask-access",
            Some(ALICE),
            Some(company()),
        )
        .await;
    assert_eq!(ask.status, StatusCode::FORBIDDEN);
    assert_eq!(ask.header("x-error-code"), Some("GatedRepo"));
    assert_eq!(ask.header("x-error-message"), Some(EU_REFUSAL));
    assert_eq!(ask.body["error"], EU_REFUSAL);
    let alice = Name::parse("alice").unwrap();
    let repo = model("org/eu");
    let stored = server.store().access_request(&repo, &alice);
    assert!(stored.await.unwrap().is_none());
    let check = "/api/models/org/eu/auth-check";
    let signed_in = server
        .call_from("fr", Method::GET, check, Some(ALICE), None)
        .await;
    assert_eq!(signed_in.status, StatusCode::FORBIDDEN);
    assert_eq!(signed_in.header("x-error-message"), Some(EU_REFUSAL));
    let anonymous = server.call_from("DE", Method::GET, check, None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.header("x-error-code"), Some("GatedRepo"));
    assert_eq!(anonymous.header("x-error-message"), Some(EU_REFUSAL));
}

#[tokio::test]
async fn an_accepted_requester_keeps_access_outside_the_eu_and_loses_it_inside() {
    let server = server().await;
    let ask = server
        .call_from(
            "US",
            Method::POST,
            "/org/eu/ask-access",
            Some(ALICE),
            Some(company()),
        )
        .await;
    assert_eq!(ask.status, StatusCode::OK);
    assert_eq!(ask.body["status"], "pending");
    let check = "/api/models/org/eu/auth-check";
    let pending = server
        .call_from("US", Method::GET, check, Some(ALICE), None)
        .await;
    assert!(
        pending
            .header("x-error-message")
            .unwrap()
            .contains("awaiting a review")
    );
    let accept = json!({"user": "alice", "status": "accepted"});
    let handle = "/api/models/org/eu/user-access-request/handle";
    assert_eq!(
        server.post(handle, Some(OWNER), accept).await.status,
        StatusCode::OK
    );
    let from_us = server.call_from("US", Method::GET, check, Some(ALICE), None);
    assert_eq!(from_us.await.status, StatusCode::OK);
    let from_it = server
        .call_from("IT", Method::GET, check, Some(ALICE), None)
        .await;
    assert_eq!(from_it.status, StatusCode::FORBIDDEN);
    assert_eq!(from_it.header("x-error-message"), Some(EU_REFUSAL));
}

#[tokio::test]
async fn without_a_readable_country_header_a_viewer_counts_as_outside_the_eu() {
    let server = server().await;
    let no_header = server
        .post("/org/eu/ask-access", Some(ALICE), company())
        .await;
    assert_eq!(no_header.status, StatusCode::OK);
    for malformed in ["France", "EU", "", "XX"] {
        let answer = server
            .call_from(
                malformed,
                Method::POST,
                "/org/eu/ask-access",
                Some(BOB),
                Some(company()),
            )
            .await;
        // Bob's first ask is stored; the repeats are the usual conflict, not a region refusal.
        assert_ne!(answer.status, StatusCode::FORBIDDEN, "{malformed:?}");
    }
    let bob = Name::parse("bob").unwrap();
    let repo = model("org/eu");
    let stored = server.store().access_request(&repo, &bob);
    assert!(stored.await.unwrap().is_some());
    let anonymous = server.get("/api/models/org/eu/auth-check", None).await;
    assert_eq!(
        anonymous.header("x-error-message").unwrap(),
        "Access to model org/eu is restricted. You must have access to it and be authenticated to access it. Please log in."
    );
}

#[tokio::test]
async fn the_namespace_keeps_access_from_the_eu_and_an_ungated_repo_ignores_the_flag() {
    let server = server().await;
    let check = "/api/models/org/eu/auth-check";
    for token in [OWNER_READ, READER] {
        let member = server.call_from("FR", Method::GET, check, Some(token), None);
        assert_eq!(member.await.status, StatusCode::OK, "{token}");
    }
    let owner_asks = server
        .call_from(
            "FR",
            Method::POST,
            "/org/eu/ask-access",
            Some(OWNER),
            Some(company()),
        )
        .await;
    assert_eq!(owner_asks.status, StatusCode::CONFLICT);
    let open = server.call_from(
        "FR",
        Method::GET,
        "/api/models/org/eu-open/auth-check",
        None,
        None,
    );
    assert_eq!(open.await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_country_header_is_the_configured_one() {
    let mut server = server().await;
    server.app.viewer_country_header = http::HeaderName::from_static("x-viewer-country");
    let check = "/api/models/org/eu/auth-check";
    let cloudfront = server
        .call_from("FR", Method::GET, check, Some(ALICE), None)
        .await;
    assert!(
        cloudfront
            .header("x-error-message")
            .unwrap()
            .contains("not in the authorized list")
    );
    let configured = request(Method::GET, check, Some(ALICE)).header("x-viewer-country", "FR");
    let answer = server
        .send(configured.body(lambda_http::Body::Empty).unwrap())
        .await;
    assert_eq!(answer.header("x-error-message"), Some(EU_REFUSAL));
}

fn is_commit_id(text: &str) -> bool {
    text.len() == 40
        && text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[tokio::test]
async fn a_download_carries_the_commit_the_blob_id_and_the_true_size_also_on_head() {
    let server = server().await;
    let path = "/org/open/resolve/main/weights/model.bin";
    let head = server.call(Method::HEAD, path, None, None).await;
    assert_eq!(head.status, StatusCode::OK);
    let commit = head.header("x-repo-commit").unwrap().to_owned();
    assert!(is_commit_id(&commit), "{commit}");
    let oid = crate::service::repos::file_entry("x", b"0123456789").oid;
    assert_eq!(head.header("etag"), Some(format!("\"{oid}\"").as_str()));
    assert_eq!(head.header("content-length"), Some("10"));
    assert!(head.raw.is_empty());

    let get = server.get(path, None).await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(&get.raw[..], b"0123456789");
    assert_eq!(get.header("x-repo-commit"), Some(commit.as_str()));

    // The commit id names the same revision as main.
    let by_commit = server
        .get(
            &format!("/org/open/resolve/{commit}/weights/model.bin"),
            None,
        )
        .await;
    assert_eq!(&by_commit.raw[..], b"0123456789");
}

/// A blob store that serves blobs itself, as S3 does through presigned URLs.
struct UrlBlobs;

#[async_trait::async_trait]
impl crate::blobs::BlobStore for UrlBlobs {
    async fn put(&self, _: &str, _: bytes::Bytes) -> crate::error::Result<()> {
        Ok(())
    }

    async fn read(
        &self,
        _: &str,
        _: std::ops::Range<u64>,
    ) -> crate::error::Result<crate::blobs::BlobStream> {
        panic!("a store that hands out URLs is never read through")
    }

    async fn download_url(&self, sha256: &str) -> crate::error::Result<Option<String>> {
        Ok(Some(format!("https://blobs.example.com/{sha256}?signed")))
    }
}

#[tokio::test]
async fn a_get_redirects_to_a_blob_store_that_serves_the_file_with_the_metadata_on_the_redirect() {
    let mut server = server().await;
    server.app.blobs = Some(Arc::new(UrlBlobs));
    let path = "/org/open/resolve/main/weights/model.bin";
    let entry = crate::service::repos::file_entry("x", b"0123456789");

    let get = server.get(path, None).await;
    assert_eq!(get.status, StatusCode::FOUND);
    assert_eq!(
        get.header("location"),
        Some(format!("https://blobs.example.com/{}?signed", entry.sha256).as_str())
    );
    assert!(is_commit_id(get.header("x-repo-commit").unwrap()));
    let etag = format!("\"{}\"", entry.oid);
    assert_eq!(get.header("x-linked-etag"), Some(etag.as_str()));
    assert_eq!(get.header("x-linked-size"), Some("10"));

    // The HEAD answers itself, so every client reads the metadata from a plain 200.
    let head = server.call(Method::HEAD, path, None, None).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-length"), Some("10"));

    // The gate and the range checks come first.
    let gated = server
        .get("/org/manual/resolve/main/config.json", None)
        .await;
    assert_eq!(gated.status, StatusCode::UNAUTHORIZED);
    let past_the_end = request(Method::GET, path, None)
        .header("range", "bytes=99-")
        .body(lambda_http::Body::Empty)
        .unwrap();
    let bad_range = server.send(past_the_end).await;
    assert_eq!(bad_range.status, StatusCode::RANGE_NOT_SATISFIABLE);
}

#[tokio::test]
async fn a_download_of_a_gated_repo_answers_each_gate_state_as_the_hub_does() {
    let server = server().await;
    let path = "/org/manual/resolve/main/config.json";
    let head = |token| server.call(Method::HEAD, path, token, None);
    let anonymous = head(None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.header("x-error-code"), Some("GatedRepo"));
    let stranger = head(Some(ALICE)).await;
    assert_eq!(stranger.status, StatusCode::FORBIDDEN);
    assert!(
        stranger
            .header("x-error-message")
            .unwrap()
            .contains("not in the authorized list")
    );
    server.ask("org/manual", ALICE).await;
    let pending = server.get(path, Some(ALICE)).await;
    assert_eq!(pending.status, StatusCode::FORBIDDEN);
    assert!(
        pending
            .header("x-error-message")
            .unwrap()
            .contains("awaiting a review")
    );
    assert_eq!(
        pending.body["error"],
        pending.header("x-error-message").unwrap()
    );
    server
        .post(
            "/api/models/org/manual/user-access-request/handle",
            Some(OWNER),
            json!({"user": "alice", "status": "accepted"}),
        )
        .await;
    let accepted = server.get(path, Some(ALICE)).await;
    assert_eq!(
        (accepted.status, &accepted.raw[..]),
        (StatusCode::OK, &b"{}"[..])
    );
    for member in [OWNER_READ, READER] {
        assert_eq!(head(Some(member)).await.status, StatusCode::OK);
    }
    // The gate comes before the file: a stranger learns nothing of what the repo holds.
    let missing = server
        .call(
            Method::HEAD,
            "/org/manual/resolve/main/nope.txt",
            Some(BOB),
            None,
        )
        .await;
    assert_eq!(missing.header("x-error-code"), Some("GatedRepo"));
    let private = server
        .call(
            Method::HEAD,
            "/org/secret/resolve/main/x",
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(private.status, StatusCode::NOT_FOUND);
    assert_eq!(private.header("x-error-code"), Some("RepoNotFound"));
}

#[tokio::test]
async fn a_missing_file_or_revision_is_its_own_404_and_a_missing_file_names_the_commit() {
    let server = server().await;
    let missing = server
        .call(Method::HEAD, "/org/open/resolve/main/nope.txt", None, None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.header("x-error-code"), Some("EntryNotFound"));
    assert!(is_commit_id(missing.header("x-repo-commit").unwrap()));
    for revision in ["dev", "refs%2Fpr%2F1", &"0".repeat(40)] {
        let answer = server
            .get(&format!("/org/open/resolve/{revision}/notes.txt"), None)
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{revision}");
        assert_eq!(answer.header("x-error-code"), Some("RevisionNotFound"));
        assert!(
            answer
                .header("x-error-message")
                .unwrap()
                .starts_with("Invalid rev id: ")
        );
    }
    let folder = server.get("/org/open/resolve/main/weights", None).await;
    assert_eq!(folder.header("x-error-code"), Some("EntryNotFound"));
}

#[tokio::test]
async fn one_byte_range_is_a_206_and_bad_or_unsatisfiable_ranges_are_4xx() {
    let server = server().await;
    let path = "/org/open/resolve/main/weights/model.bin";
    let ranged = |range: &'static str| {
        let request = request(Method::GET, path, None)
            .header("range", range)
            .body(lambda_http::Body::Empty)
            .unwrap();
        server.send(request)
    };
    for (range, bytes, content_range) in [
        ("bytes=2-4", &b"234"[..], "bytes 2-4/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-2", b"89", "bytes 8-9/10"),
        ("bytes=8-100", b"89", "bytes 8-9/10"),
    ] {
        let answer = ranged(range).await;
        assert_eq!(answer.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(&answer.raw[..], bytes, "{range}");
        assert_eq!(answer.header("content-range"), Some(content_range));
        assert_eq!(
            answer.header("content-length").unwrap(),
            bytes.len().to_string()
        );
    }
    let past_the_end = ranged("bytes=10-").await;
    assert_eq!(past_the_end.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(past_the_end.header("content-range"), Some("bytes */10"));
    for bad in ["bytes=a-b", "items=0-1", "bytes=0-1,4-5", "bytes=5-2"] {
        let answer = ranged(bad).await;
        assert!(answer.status.is_client_error(), "{bad}: {}", answer.status);
        assert!(answer.header("x-error-message").is_some(), "{bad}");
    }
}

#[tokio::test]
async fn a_revision_names_its_commit_and_files_and_is_gated_like_the_content() {
    let server = server().await;
    let open = server.get("/api/models/org/open/revision/main", None).await;
    assert_eq!(open.status, StatusCode::OK);
    let commit = open.body["sha"].as_str().unwrap().to_owned();
    assert!(is_commit_id(&commit));
    let files: Vec<&str> = open.body["siblings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rfilename"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        ["notes.txt", "weights/extra/a.txt", "weights/model.bin"]
    );
    let by_commit = server
        .get(&format!("/api/models/org/open/revision/{commit}"), None)
        .await;
    assert_eq!(by_commit.body["sha"], commit.as_str());
    let gated = server
        .get("/api/models/org/manual/revision/main", None)
        .await;
    assert_eq!(gated.status, StatusCode::UNAUTHORIZED);
    assert_eq!(gated.header("x-error-code"), Some("GatedRepo"));
    let unknown = server.get("/api/models/org/open/revision/dev", None).await;
    assert_eq!(unknown.header("x-error-code"), Some("RevisionNotFound"));
    let dataset = server
        .get("/api/datasets/org/d/revision/main", Some(OWNER))
        .await;
    assert_eq!(dataset.status, StatusCode::OK);
}

#[tokio::test]
async fn a_tree_lists_folders_and_files_at_one_level_or_all_the_way_down() {
    let server = server().await;
    let listing = |path: &'static str| {
        let server = &server;
        async move {
            let answer = server.get(path, None).await;
            assert_eq!(answer.status, StatusCode::OK, "{path}");
            answer
                .body
                .as_array()
                .unwrap()
                .iter()
                .map(|entry| {
                    format!(
                        "{} {}",
                        entry["type"].as_str().unwrap(),
                        entry["path"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        listing("/api/models/org/open/tree/main").await,
        ["file notes.txt", "directory weights"]
    );
    assert_eq!(
        listing("/api/models/org/open/tree/main?recursive=true&expand=false").await,
        [
            "file notes.txt",
            "directory weights",
            "directory weights/extra",
            "file weights/extra/a.txt",
            "file weights/model.bin"
        ]
    );
    assert_eq!(
        listing("/api/models/org/open/tree/main/weights").await,
        ["directory weights/extra", "file weights/model.bin"]
    );
    let file = server
        .get("/api/models/org/open/tree/main", None)
        .await
        .body[0]
        .clone();
    assert_eq!(file["size"], 1);
    assert_eq!(
        file["oid"],
        crate::service::repos::file_entry("x", b"n").oid
    );
    let missing = server
        .get("/api/models/org/open/tree/main/nope", None)
        .await;
    assert_eq!(missing.header("x-error-code"), Some("EntryNotFound"));
    let gated = server
        .get("/api/models/org/manual/tree/main", Some(ALICE))
        .await;
    assert_eq!(gated.status, StatusCode::FORBIDDEN);
    for bad in ["?recursive=maybe", "?cursor=%%%"] {
        let answer = server
            .get(&format!("/api/models/org/open/tree/main{bad}"), None)
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}
