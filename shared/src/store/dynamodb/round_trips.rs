//! DynamoDB round trips per API operation (BENCHMARKS.md, section 6).
//!
//! An SDK interceptor counts the calls a client makes, by operation name (`GetItem`, `Query`,
//! `TransactWriteItems`…), and their attempts (retries included). The main test drives every
//! route of the routing table through the real HTTP entry point (`api::handle`) on a
//! `DynamoStore` over DynamoDB Local, in its main cases, and checks each case's calls against
//! the table in the test: a change that adds a round trip fails it. It is a count, not a
//! timing. The table it prints (`--nocapture`) holds, for each case, the fewest round trips
//! the operation needs with this table layout; BENCHMARKS.md explains each gap.
//!
//! Like the store's other DynamoDB tests (`tests.rs`), these pass with a note when no
//! emulator is configured, and fail instead with `GATEHOUSE_REQUIRE_EMULATORS=1`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::tests::{
    self as fixtures, TableGuard, emulator_endpoint, sdk_config, store_on_new_table,
};
use super::*;
use crate::api::{App, Handler, handle, routes};
use crate::blobs::LocalBlobs;
use crate::domain::{
    AuditAction, Contact, NotificationsMode, RepoId, RepoType, RequestState, Visibility,
};
use crate::seed::Seed;
use crate::service::repos::{NewRepo, create_repo};

// ---- the counting interceptor ------------------------------------------------------------------

/// Counts a client's calls by operation name: one per call (`calls`) and one per attempt
/// sent (`attempts`, retries included). Clones share the counts.
#[derive(Clone, Debug, Default)]
struct RoundTrips {
    counts: Arc<Mutex<BTreeMap<String, Count>>>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Count {
    calls: u32,
    attempts: u32,
}

/// DynamoDB's JSON protocol names the operation of every request in this header
/// (`DynamoDB_20120810.GetItem`): what is counted is what goes on the wire.
const TARGET_HEADER: &str = "x-amz-target";

impl RoundTrips {
    fn record(&self, context: &BeforeTransmitInterceptorContextRef<'_>, add: fn(&mut Count)) {
        let target = context.request().headers().get(TARGET_HEADER);
        let operation = match target {
            Some(target) => target.rsplit('.').next().unwrap_or(target).to_owned(),
            None => format!("(no {TARGET_HEADER} header)"),
        };
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        add(counts.entry(operation).or_default());
    }

    /// The counts since the last `take`, and a fresh start.
    fn take(&self) -> BTreeMap<String, Count> {
        std::mem::take(&mut *self.counts.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Intercept for RoundTrips {
    fn name(&self) -> &'static str {
        "RoundTrips"
    }

    /// Once per call, after the request is serialized and before the retry loop.
    fn read_after_serialization(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.record(context, |count| count.calls += 1);
        Ok(())
    }

    /// Once per attempt, just before it is sent.
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.record(context, |count| count.attempts += 1);
        Ok(())
    }
}

/// A client whose every call `counter` counts.
fn counted_client(
    config: &aws_config::SdkConfig,
    endpoint: Option<&str>,
    counter: &RoundTrips,
) -> Client {
    let mut builder = aws_sdk_dynamodb::config::Builder::from(config).interceptor(counter.clone());
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    Client::from_conf(builder.build())
}

/// Answers every HTTP request with a 500, which the SDK's standard mode retries.
async fn failing_server() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                // Read the whole request (headers, then Content-Length bytes) before answering.
                let mut seen = Vec::new();
                let mut buffer = [0u8; 4096];
                loop {
                    let Ok(read) = socket.read(&mut buffer).await else {
                        return;
                    };
                    if read == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buffer[..read]);
                    let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
                    let Some(end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let length = text[..end]
                        .lines()
                        .find_map(|line| line.strip_prefix("content-length:"))
                        .and_then(|value| value.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if seen.len() >= end + 4 + length {
                        break;
                    }
                }
                let answer = "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\
                              connection: close\r\n\r\n";
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn the_counter_counts_a_retried_call_once_and_each_of_its_attempts() {
    let endpoint = failing_server().await;
    let counter = RoundTrips::default();
    let client = counted_client(&sdk_config(3).await, Some(&endpoint), &counter);
    let result = client
        .get_item()
        .table_name("t")
        .key("PK", AttributeValue::S("a".into()))
        .key("SK", AttributeValue::S("b".into()))
        .send()
        .await;
    assert!(result.is_err(), "{result:?}");
    let counts = counter.take();
    assert_eq!(
        counts,
        BTreeMap::from([(
            "GetItem".to_owned(),
            Count {
                calls: 1,
                attempts: 3
            }
        )])
    );
    assert!(counter.take().is_empty(), "take starts over");
}

// ---- a counted store on DynamoDB Local -------------------------------------------------------

/// A store on a new table whose every call `RoundTrips` counts, or `None` without emulator.
async fn counted_store() -> Option<(DynamoStore, RoundTrips, TableGuard)> {
    emulator_endpoint()?;
    let counter = RoundTrips::default();
    let client = counted_client(&sdk_config(4).await, None, &counter);
    let (store, guard) = store_on_new_table(client, "gatehouse-round-trips").await;
    counter.take();
    Some((store, counter, guard))
}

// ---- every API operation, counted ------------------------------------------------------------

const OWNER: &str = "hf_owner_write_000000000";
const REQUESTER: &str = "hf_rafael_read_000000000";
/// The manual repo's seeded requests: enough pending ones for a second page of 100.
const PENDING: usize = 205;
const ACCEPTED: usize = 10;
const REJECTED: usize = 5;

const CARD: &str = "---\nextra_gated_prompt: Tell us who you are.\nextra_gated_fields:\n  Company: text\n  Use:\n    type: select\n    options: [research, {label: Other, value: other}]\n  I agree: checkbox\n---\n# A gated model\n";

/// An owner (admin of `org`, with a write token), a read member, a requester with a read
/// token, a user to grant access to, and `org/manual` (gated manual, a card and a file) with
/// `PENDING + ACCEPTED + REJECTED` requests by other users; plus an auto-gated model and a
/// manual dataset with the same card.
fn seed() -> String {
    // A JSON string is a YAML double-quoted scalar.
    let card = serde_json::to_string(CARD).unwrap();
    let (mut users, mut requests) = (String::new(), String::new());
    for i in 0..PENDING + ACCEPTED + REJECTED {
        let status = if i < PENDING {
            "pending"
        } else if i < PENDING + ACCEPTED {
            "accepted"
        } else {
            "rejected"
        };
        let time = format!("2025-01-01T{:02}:{:02}:00.000Z", i / 60, i % 60);
        writeln!(users, "  - {{name: u{i:03}, email: u{i:03}@example.com}}").unwrap();
        writeln!(
            requests,
            "  - {{repo: org/manual, user: u{i:03}, status: {status}, time: '{time}', \
             fields: {{Company: 'ACME {i}', Use: research, I agree: true}}}}"
        )
        .unwrap();
    }
    format!(
        "users:
  - {{name: owner, fullname: Olga Owner, email: owner@example.com}}
  - {{name: reader, fullname: Read Member, email: reader@example.com}}
  - {{name: rafael, fullname: Rafael R, email: rafael@example.com}}
  - {{name: gina, fullname: Gina G, email: gina@example.com}}
{users}orgs:
  - {{name: org, fullname: The Org, members: [{{user: owner, role: admin}}, {{user: reader, role: read}}]}}
tokens:
  - {{user: owner, role: write, name: ci, value: {OWNER}}}
  - {{user: rafael, role: read, name: laptop, value: {REQUESTER}}}
repos:
  - {{id: org/manual, gated: manual, readme: {card}, files: {{config.json: '{{}}'}}}}
  - {{id: org/auto, gated: auto, readme: {card}}}
  - {{id: org/data, type: dataset, gated: manual, readme: {card}}}
requests:
{requests}"
    )
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
    raw: bytes::Bytes,
}

/// One case of the table: what is asked, what it must answer, the calls it must make, and
/// the fewest round trips it needs (see BENCHMARKS.md, section 6).
struct Case<'a> {
    case: &'a str,
    method: Method,
    path: String,
    token: Option<&'a str>,
    body: Option<Value>,
    status: StatusCode,
    calls: &'a [(&'a str, u32)],
    minimum: u32,
}

struct Harness {
    app: App,
    counter: RoundTrips,
    handlers: BTreeSet<&'static str>,
    rows: Vec<String>,
    mismatches: Vec<String>,
}

impl Harness {
    async fn check(&mut self, case: Case<'_>) -> Answer {
        let path = case.path.split('?').next().unwrap_or(&case.path);
        let handler = routes::find(&case.method, path)
            .map(|matched| matched.handler)
            .unwrap_or_else(|e| panic!("{} {} routes nowhere: {e}", case.method, case.path));
        self.handlers.insert(handler.function_name());
        let mut builder = http::Request::builder()
            .method(case.method.clone())
            .uri(&case.path)
            .header("host", "127.0.0.1:7777");
        if let Some(token) = case.token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let body = match &case.body {
            Some(value) => {
                builder = builder.header("content-type", "application/json");
                lambda_http::Body::Text(value.to_string())
            }
            None => lambda_http::Body::Empty,
        };
        self.counter.take();
        let response = handle(&self.app, builder.body(body).unwrap()).await;
        let (parts, body) = response.into_parts();
        // A streamed body (the report) makes its calls while it is read.
        let raw = body.collect().await.unwrap();
        let counts = self.counter.take();
        let answer = Answer {
            status: parts.status,
            headers: parts.headers,
            body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
            raw,
        };
        assert_eq!(
            answer.status, case.status,
            "{}: {} {} answered {}",
            case.case, case.method, case.path, answer.body
        );

        let calls: BTreeMap<&str, u32> = counts
            .iter()
            .map(|(name, count)| (name.as_str(), count.calls))
            .collect();
        let expected: BTreeMap<&str, u32> = case.calls.iter().copied().collect();
        let total: u32 = calls.values().sum();
        let attempts: u32 = counts.values().map(|count| count.attempts).sum();
        let shown = |calls: &BTreeMap<&str, u32>| {
            calls
                .iter()
                .map(|(name, n)| format!("{name} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if calls != expected {
            self.mismatches.push(format!(
                "{}: expected {}, made {}",
                case.case,
                shown(&expected),
                shown(&calls)
            ));
        }
        assert!(
            total >= case.minimum,
            "{}: {total} calls, under the stated minimum {}: update the table",
            case.case,
            case.minimum
        );
        self.rows.push(format!(
            "| {} | `{} {path}` | {} | {total} | {attempts} | {} |",
            case.case,
            case.method,
            shown(&calls),
            case.minimum
        ));
        answer
    }
}

fn get<'a>(case: &'a str, path: &str, token: Option<&'a str>) -> Case<'a> {
    Case {
        case,
        method: Method::GET,
        path: path.to_owned(),
        token,
        body: None,
        status: StatusCode::OK,
        calls: &[],
        minimum: 0,
    }
}

fn send<'a>(method: Method, case: &'a str, path: &str, token: &'a str, body: Value) -> Case<'a> {
    Case {
        method,
        token: Some(token),
        body: Some(body),
        ..get(case, path, None)
    }
}

impl<'a> Case<'a> {
    fn answers(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    fn calls(mut self, calls: &'a [(&'a str, u32)], minimum: u32) -> Self {
        self.calls = calls;
        self.minimum = minimum;
        self
    }
}

const API: &str = "/api/models/org/manual";
const REQUESTS: &str = "/api/models/org/manual/user-access-request";

/// The answers the card asks for.
fn answers() -> Value {
    json!({"fields": {"Company": "Initech", "Use": "research", "I agree": true}})
}

#[tokio::test]
async fn every_api_operation_makes_exactly_the_dynamodb_calls_in_its_table() {
    let Some((store, counter, _guard)) = counted_store().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let blobs = LocalBlobs::new(dir.path().join("blobs"));
    Seed::parse(&seed())
        .unwrap()
        .load(&store, &blobs)
        .await
        .unwrap();
    let mut h = Harness {
        app: App {
            store: Arc::new(store.clone()),
            public_url: None,
            viewer_country_header: crate::api::DEFAULT_VIEWER_COUNTRY_HEADER,
            blobs: None,
            session_key: crate::web::SessionKey::for_tests(),
        },
        counter,
        handlers: BTreeSet::new(),
        rows: Vec::new(),
        mismatches: Vec::new(),
    };
    const GET: &str = "GetItem";
    const QUERY: &str = "Query";
    const BATCH: &str = "BatchGetItem";
    const TRANSACT: &str = "TransactWriteItems";
    const UPDATE: &str = "UpdateItem";
    let owner = Some(OWNER);
    let requester = Some(REQUESTER);

    h.check(get("agent-harnesses", "/api/agent-harnesses", None).calls(&[], 0))
        .await;
    let whoami = h
        .check(
            get("whoami, a member of one org", "/api/whoami-v2", owner)
                .calls(&[(GET, 1), (QUERY, 1), (BATCH, 1)], 3),
        )
        .await;
    assert_eq!(whoami.body["orgs"][0]["roleInOrg"], "admin");
    h.check(
        get("whoami, in no org", "/api/whoami-v2", requester)
            .calls(&[(GET, 1), (QUERY, 1), (BATCH, 1)], 3),
    )
    .await;

    h.check(get("repo info, anonymous", API, None).calls(&[(BATCH, 1), (QUERY, 1)], 1))
        .await;
    let info = h
        .check(get("repo info, owner", API, owner).calls(&[(GET, 1), (BATCH, 1), (QUERY, 1)], 3))
        .await;
    assert_eq!(info.body["gatedNotificationsMode"], "bulk");
    assert_eq!(info.body["siblings"].as_array().unwrap().len(), 2);
    h.check(
        get("repo info, requester", API, requester).calls(&[(GET, 1), (BATCH, 1), (QUERY, 1)], 3),
    )
    .await;

    let asked = h
        .check(
            send(
                Method::POST,
                "ask-access, a fresh user",
                "/org/manual/ask-access",
                REQUESTER,
                answers(),
            )
            .calls(&[(GET, 1), (BATCH, 1), (TRANSACT, 1)], 3),
        )
        .await;
    assert_eq!(asked.body["status"], "pending");
    h.check(
        send(
            Method::POST,
            "ask-access again, pending (409)",
            "/org/manual/ask-access",
            REQUESTER,
            answers(),
        )
        .answers(StatusCode::CONFLICT)
        .calls(&[(GET, 1), (BATCH, 1)], 2),
    )
    .await;
    let own = h
        .check(
            get("own request", &format!("{REQUESTS}/me"), requester)
                .calls(&[(GET, 1), (BATCH, 1)], 2),
        )
        .await;
    assert_eq!(own.body["status"], "pending");

    let auth_check = format!("{API}/auth-check");
    h.check(
        get("auth-check, pending (403)", &auth_check, requester)
            .answers(StatusCode::FORBIDDEN)
            .calls(&[(GET, 1), (BATCH, 1)], 2),
    )
    .await;
    h.check(
        get("auth-check, anonymous (401)", &auth_check, None)
            .answers(StatusCode::UNAUTHORIZED)
            .calls(&[(BATCH, 1)], 1),
    )
    .await;
    h.check(get("auth-check, owner", &auth_check, owner).calls(&[(GET, 1), (BATCH, 1)], 2))
        .await;
    h.check(
        get(
            "auth-check/write, owner",
            &format!("{auth_check}/write"),
            owner,
        )
        .calls(&[(GET, 1), (BATCH, 1)], 2),
    )
    .await;

    let first = h
        .check(
            get("pending, first page", &format!("{REQUESTS}/pending"), owner)
                .calls(&[(GET, 1), (BATCH, 1), (QUERY, 1)], 3),
        )
        .await;
    assert_eq!(first.body.as_array().unwrap().len(), MAX_PAGE_SIZE);
    let link = first.headers["link"].to_str().unwrap().to_owned();
    let next = link
        .strip_prefix("<http://127.0.0.1:7777")
        .and_then(|rest| rest.split_once('>'))
        .map(|(path, _)| path.to_owned())
        .expect("a next page");
    let second = h
        .check(
            get("pending, second page (cursor)", &next, owner)
                .calls(&[(GET, 1), (BATCH, 1), (QUERY, 1)], 3),
        )
        .await;
    assert_eq!(second.body.as_array().unwrap().len(), MAX_PAGE_SIZE);
    assert!(
        second.headers.contains_key("link"),
        "206 pending: a third page"
    );
    let u000 = first.body[0]["requestId"].as_str().unwrap().to_owned();
    assert_eq!(first.body[0]["user"]["user"], "u000");

    let handle_path = format!("{REQUESTS}/handle");
    let review =
        |case: &'static str, body: Value| send(Method::POST, case, &handle_path, OWNER, body);
    h.check(
        review(
            "handle: accept, by user",
            json!({"user": "rafael", "status": "accepted"}),
        )
        .calls(&[(GET, 1), (BATCH, 1), (TRANSACT, 1)], 3),
    )
    .await;
    h.check(get("auth-check, accepted", &auth_check, requester).calls(&[(GET, 1), (BATCH, 1)], 2))
        .await;
    h.check(
        review(
            "handle: reject with a reason, by user",
            json!({"user": "u000", "status": "rejected", "rejectionReason": "not eligible"}),
        )
        .calls(&[(GET, 1), (BATCH, 1), (TRANSACT, 1)], 3),
    )
    .await;
    h.check(
        review(
            "handle: cancel back to pending, by requestId",
            json!({"requestId": u000, "status": "pending"}),
        )
        .calls(&[(GET, 1), (QUERY, 1), (BATCH, 1), (TRANSACT, 1)], 4),
    )
    .await;

    let grant_path = format!("{REQUESTS}/grant");
    let granted = h
        .check(
            send(
                Method::POST,
                "grant, a user with no request",
                &grant_path,
                OWNER,
                json!({"user": "gina"}),
            )
            .calls(&[(GET, 1), (BATCH, 1), (TRANSACT, 1)], 3),
        )
        .await;
    assert_eq!(granted.body["status"], "accepted");
    h.check(
        send(
            Method::POST,
            "grant, a user with a pending request",
            &grant_path,
            OWNER,
            json!({"user": "u001"}),
        )
        .calls(&[(GET, 1), (BATCH, 1), (TRANSACT, 1)], 3),
    )
    .await;

    h.check(
        send(
            Method::POST,
            "withdraw own (accepted) request",
            &format!("{REQUESTS}/cancel"),
            REQUESTER,
            json!({}),
        )
        .calls(&[(GET, 1), (BATCH, 1), (TRANSACT, 1)], 3),
    )
    .await;
    let settings = h
        .check(
            send(
                Method::PUT,
                "settings update",
                &format!("{API}/settings"),
                OWNER,
                json!({"gatedNotificationsMode": "real-time"}),
            )
            .calls(&[(GET, 1), (BATCH, 1), (UPDATE, 1)], 3),
        )
        .await;
    assert_eq!(settings.body["gatedNotificationsMode"], "real-time");
    h.check(
        send(
            Method::POST,
            "ask-access, auto-gated: accepted at once",
            "/org/auto/ask-access",
            REQUESTER,
            answers(),
        )
        .calls(&[(GET, 1), (BATCH, 1), (TRANSACT, 1)], 3),
    )
    .await;
    h.check(
        send(
            Method::POST,
            "ask-access, a dataset",
            "/datasets/org/data/ask-access",
            REQUESTER,
            answers(),
        )
        .calls(&[(GET, 1), (BATCH, 1), (TRANSACT, 1)], 3),
    )
    .await;

    // Downloads: the gate and the file in one read after the token's, whatever the answer.
    let download = h
        .check(
            Case {
                method: Method::HEAD,
                ..get(
                    "download HEAD, accepted requester",
                    "/org/auto/resolve/main/README.md",
                    requester,
                )
            }
            .calls(&[(GET, 1), (BATCH, 1)], 2),
        )
        .await;
    assert!(download.headers.contains_key("x-repo-commit"));
    h.check(
        Case {
            method: Method::HEAD,
            ..get(
                "download HEAD, owner",
                "/org/manual/resolve/main/config.json",
                owner,
            )
        }
        .calls(&[(GET, 1), (BATCH, 1)], 2),
    )
    .await;
    h.check(
        Case {
            method: Method::HEAD,
            ..get(
                "download HEAD, no request: 403",
                "/org/manual/resolve/main/config.json",
                requester,
            )
        }
        .answers(StatusCode::FORBIDDEN)
        .calls(&[(GET, 1), (BATCH, 1)], 2),
    )
    .await;
    // The minimum reads the files with one Query: they are items of their own.
    h.check(
        get("revision info", &format!("{API}/revision/main"), owner)
            .calls(&[(GET, 1), (BATCH, 1), (QUERY, 1)], 3),
    )
    .await;
    h.check(
        get(
            "tree, recursive",
            &format!("{API}/tree/main?recursive=true"),
            owner,
        )
        .calls(&[(GET, 1), (BATCH, 1), (QUERY, 1)], 3),
    )
    .await;

    // Pages: the same reads as the API's calls on a repo, and a page of requests.
    h.check(get("sign-in page", "/login", None)).await;
    h.check(
        get("repo page, owner", "/org/manual", owner).calls(&[(GET, 1), (BATCH, 1), (QUERY, 1)], 3),
    )
    .await;
    // The README's HTML comes in the batch; the files only for those the gate lets in.
    h.check(
        get(
            "repo page, requester without access",
            "/org/manual",
            Some(REQUESTER),
        )
        .calls(&[(GET, 1), (BATCH, 1)], 2),
    )
    .await;
    h.check(get("settings page", "/org/manual/settings", owner).calls(&[(GET, 1), (BATCH, 1)], 2))
        .await;
    h.check(
        get(
            "requests page, pending",
            "/org/manual/settings/requests/pending",
            owner,
        )
        .calls(&[(GET, 1), (BATCH, 1), (QUERY, 1)], 3),
    )
    .await;

    // Seeded, plus the grant to gina; rafael's request was withdrawn.
    let total = PENDING + ACCEPTED + REJECTED + 1;
    let report = h
        .check(
            get(
                "report, CSV, 221 requests",
                &format!("{REQUESTS}/report?format=csv"),
                owner,
            )
            .calls(&[(GET, 1), (BATCH, 1), (QUERY, 3)], 3),
        )
        .await;
    let lines = std::str::from_utf8(&report.raw).unwrap().lines().count();
    assert_eq!(lines, total + 1, "a header and a row per request");
    assert_eq!(total, 221, "the case's name says so");

    // The minimum counts one Query for the whole report: one query page holds 1 MB.
    let repo = RepoRef::new(RepoType::Model, RepoId::parse("org/manual").unwrap());
    let stored = store
        .query_all(Some(GSI1), keys::requests_gsi_pk(&repo), None)
        .await
        .unwrap();
    let bytes: usize = stored.iter().map(items::item_size).sum();
    assert_eq!(stored.len(), total);
    assert!(
        bytes < 1024 * 1024,
        "{bytes} bytes: more than one query page"
    );

    let all: BTreeSet<&str> = Handler::ALL.iter().map(|h| h.function_name()).collect();
    assert_eq!(
        h.handlers, all,
        "every handler of the routing table is counted"
    );
    println!(
        "| Operation | Request | Calls | Total | Attempts | Minimum |\n|---|---|---|---:|---:|---:|"
    );
    for row in &h.rows {
        println!("{row}");
    }
    println!(
        "The report's {total} request items: {bytes} bytes as DynamoDB counts them (one query \
         page holds 1 MB)."
    );
    assert!(
        h.mismatches.is_empty(),
        "round trips changed:\n{}",
        h.mismatches.join("\n")
    );
}

/// `insert_request` writes the notifications mode its caller read the repo with; its
/// transaction checks that the repo still has it. Another process changes the mode between
/// this one's read and its write: the check refuses the write, the store reads the repo and
/// writes again with the mode it has now.
#[tokio::test]
async fn a_stale_notifications_mode_costs_one_read_and_one_more_transaction_and_is_not_stored() {
    let Some((store, counter, _guard)) = counted_store().await else {
        return;
    };
    // Another process on the same table, which changes the mode behind this one's back.
    let other = DynamoStore::new(
        Client::new(&sdk_config(4).await),
        store.table_name(),
        CursorKey::random(),
    );
    let repo = RepoRef::new(RepoType::Model, RepoId::parse("acme/m").unwrap());
    for user in ["acme", "alice", "bob"] {
        store.create_user(&fixtures::user(user)).await.unwrap();
    }
    let new = NewRepo {
        repo: repo.clone(),
        owner: None,
        visibility: Visibility::Public,
        gate: crate::domain::GateMode::Manual,
        notifications_mode: NotificationsMode::Bulk,
        notifications_email: None,
        requester_emails: true,
    };
    create_repo(&store, new).await.unwrap();
    let ask = |user: &str| {
        let at = Timestamp::now();
        let request = AccessRequest {
            id: ObjectId::random(),
            repo: repo.clone(),
            user: Name::parse(user).unwrap(),
            contact: Contact {
                fullname: user.into(),
                email: None,
            },
            answers: Default::default(),
            state: RequestState::Pending,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let audit = AuditRecord::created(AuditAction::Requested, None, &request, at);
        (request, audit)
    };
    let stored_mode = |user: &str| {
        let (store, user) = (store.clone(), Name::parse(user).unwrap());
        let pk = keys::repo_pk(&repo);
        async move {
            let item = store
                .get(&pk, &keys::request_sk(&user))
                .await
                .unwrap()
                .unwrap();
            item[NOTIFICATIONS_MODE].as_s().unwrap().clone()
        }
    };

    let read = store.repo(&repo).await.unwrap().unwrap().notifications_mode;
    counter.take();
    let (request, audit) = ask("alice");
    store.insert_request(&request, &audit, read).await.unwrap();
    assert_eq!(
        calls_of(counter.take()),
        [("TransactWriteItems".to_owned(), 1)],
        "the mode as read: no read"
    );
    assert_eq!(stored_mode("alice").await, "bulk");

    let realtime = SettingsUpdate {
        notifications_mode: Some(NotificationsMode::RealTime),
        ..Default::default()
    };
    other.update_repo_settings(&repo, &realtime).await.unwrap();
    counter.take();
    let (request, audit) = ask("bob");
    store.insert_request(&request, &audit, read).await.unwrap();
    assert_eq!(
        calls_of(counter.take()),
        [
            ("GetItem".to_owned(), 1),
            ("TransactWriteItems".to_owned(), 2)
        ],
        "a stale mode: refused, read, written"
    );
    assert_eq!(stored_mode("bob").await, "real-time");
}

// ---- notifications ---------------------------------------------------------------------------

/// Each call's operation with its count of calls.
fn calls_of(counts: BTreeMap<String, Count>) -> Vec<(String, u32)> {
    counts
        .into_iter()
        .map(|(name, count)| (name, count.calls))
        .collect()
}

/// `owner` (with an address) and `asker`, and `repos` manual repos of `owner` in `mode`.
async fn given_owner_and_repos(
    store: &DynamoStore,
    repos: usize,
    mode: NotificationsMode,
) -> Vec<RepoRef> {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    use futures::StreamExt;
    let owner = User {
        email: Some(crate::domain::Email::parse("owner@example.com").unwrap()),
        ..fixtures::user("owner")
    };
    for user in [owner, fixtures::user("asker")] {
        store.create_user(&user).await.unwrap();
    }
    let refs: Vec<_> = (0..repos)
        .map(|i| {
            RepoRef::new(
                RepoType::Model,
                RepoId::parse(&format!("owner/m{i}")).unwrap(),
            )
        })
        .collect();
    // Written 25 to a call (BatchWriteItem), as `create_repo` would write each one: thousands
    // of repos in seconds. DynamoDB Local keeps every stream record of the process, deleted
    // tables' too, and slows every later write with them; nothing here reads this stream.
    let no_stream = aws_sdk_dynamodb::types::StreamSpecification::builder()
        .stream_enabled(false)
        .build()
        .unwrap();
    store
        .client()
        .update_table()
        .table_name(store.table_name())
        .stream_specification(no_stream)
        .send()
        .await
        .unwrap();
    let items: Vec<_> = refs
        .iter()
        .map(|repo| {
            let stored = Repo {
                owner: Name::parse("owner").unwrap(),
                notifications_mode: mode,
                ..fixtures::repo(repo)
            };
            let put = PutRequest::builder()
                .set_item(Some(items::repo_item(&stored)))
                .build();
            WriteRequest::builder().put_request(put.unwrap()).build()
        })
        .collect();
    futures::stream::iter(items.chunks(25).map(<[WriteRequest]>::to_vec))
        .map(|chunk| async move {
            let mut pending = Some(HashMap::from([(store.table_name().to_owned(), chunk)]));
            while let Some(requests) = pending.filter(|p| !p.is_empty()) {
                let output = store
                    .client()
                    .batch_write_item()
                    .set_request_items(Some(requests))
                    .send()
                    .await
                    .unwrap();
                pending = output.unprocessed_items;
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    refs
}

/// A pending request of `user` on `repo`, made at `at`.
async fn given_pending(
    store: &DynamoStore,
    repo: &RepoRef,
    user: &str,
    at: Timestamp,
) -> AccessRequest {
    let (request, audit) = fixtures::request(repo, user, at.millis());
    let mode = store.repo(repo).await.unwrap().unwrap().notifications_mode;
    store.insert_request(&request, &audit, mode).await.unwrap();
    request
}

#[tokio::test]
async fn a_digest_over_ten_thousand_repos_reads_only_the_fifty_with_new_requests() {
    let Some((store, counter, _guard)) = counted_store().await else {
        return;
    };
    let repos = given_owner_and_repos(&store, 10_000, NotificationsMode::Bulk).await;
    let day = crate::domain::Day::parse("2026-03-02").unwrap();
    for (i, repo) in repos.iter().step_by(200).enumerate() {
        let at = Timestamp::from_millis(day.start().millis() + i as i64 * 60_000);
        given_pending(&store, repo, "asker", at).await;
    }
    let (notifier, mailer) = crate::service::notifications::recording(Arc::new(store.clone()));
    counter.take();

    let report = crate::service::notifications::send_digest(&notifier, day)
        .await
        .unwrap();
    assert_eq!((report.sent.len(), mailer.sent().len()), (50, 50));
    // One query of the day's index; per repo with new requests: the repo, its owner (the
    // recipient) and the marker; nothing for the 9,950 others.
    assert_eq!(
        calls_of(counter.take()),
        [
            ("GetItem".to_owned(), 100),
            ("PutItem".to_owned(), 50),
            ("Query".to_owned(), 1)
        ]
    );
}

#[tokio::test]
async fn a_stream_batch_of_a_hundred_new_requests_writes_one_marker_per_alert() {
    let Some((store, counter, _guard)) = counted_store().await else {
        return;
    };
    let [repo] = given_owner_and_repos(&store, 1, NotificationsMode::RealTime)
        .await
        .try_into()
        .unwrap();
    let mut records = Vec::new();
    for i in 0..100u64 {
        let user = format!("asker{i}");
        store.create_user(&fixtures::user(&user)).await.unwrap();
        let request = given_pending(&store, &repo, &user, Timestamp::now()).await;
        records.push(super::stream::insert_record(i + 1, &request).unwrap());
    }
    let (notifier, mailer) = crate::service::notifications::recording(Arc::new(store.clone()));
    counter.take();

    let failed = crate::service::notifications::alert_on_records(&notifier, &records).await;
    assert!(failed.is_empty());
    assert_eq!(mailer.sent().len(), 100);
    let calls = calls_of(counter.take());
    // The only writes: one conditional put of a marker per alert. Reads: the repo, as it is
    // now, and its owner (the recipient), per alert.
    assert_eq!(
        calls,
        [("GetItem".to_owned(), 200), ("PutItem".to_owned(), 100)]
    );
}
