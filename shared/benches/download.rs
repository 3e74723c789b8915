//! A gated download's HEAD as the handlers answer it, without the network: the same seed as
//! `tests/bench/download.sh` on the embedded store, the HEAD as the accepted user next to the
//! trivial route (`GET /api/agent-harnesses`), and the HEAD's store read on its own (the repo's
//! context with the caller named by their token), next to a token's read alone and the context
//! with the caller named by name.
//! Their ratio is the share of a request's server work that the gate and its reads add.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use http::{Method, StatusCode};
use shared::api::{self, App, DEFAULT_VIEWER_COUNTRY_HEADER};
use shared::blobs::LocalBlobs;
use shared::domain::{Name, RepoId, RepoRef, RepoType, TokenSecret};
use shared::seed::Seed;
use shared::store::{CallerKey, ContextRead, SqliteStore, Store};
use shared::web::SessionKey;

const TOKEN: &str = "hf_bench_accepted_read_token";
const SEED: &str = r#"
users:
  - {name: owner, email: owner@example.com}
  - {name: reader, email: reader@example.com}
tokens:
  - {user: reader, role: read, name: bench, value: hf_bench_accepted_read_token}
repos:
  - id: owner/gated
    gated: manual
    readme: "---\nextra_gated_fields:\n  Company: text\n---\n# Gated\n"
    files: {config.json: '{"model_type": "gpt2", "n_layer": 12}'}
requests:
  - {repo: owner/gated, user: reader, status: accepted, time: '2026-01-01T00:00:00.000Z', fields: {Company: ACME}}
"#;

fn request(method: Method, path: &str, token: Option<&str>) -> lambda_http::Request {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1:8080");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(lambda_http::Body::Empty).unwrap()
}

fn download(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let blobs = LocalBlobs::new(dir.path().join("blobs"));
    runtime
        .block_on(Seed::parse(SEED).unwrap().load(&store, &blobs))
        .unwrap();
    let store = Arc::new(store);
    let app = App {
        store: store.clone(),
        public_url: None,
        viewer_country_header: DEFAULT_VIEWER_COUNTRY_HEADER,
        blobs: Some(Arc::new(blobs)),
        session_key: SessionKey::from_secret(&[7; 32]).unwrap(),
    };
    let answer = |method: Method, path: &str, token: Option<&str>| {
        let response = runtime.block_on(api::handle(&app, request(method, path, token)));
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response
    };
    let head = "/owner/gated/resolve/main/config.json";

    c.bench_function("download/handler/trivial_route", |b| {
        b.iter(|| answer(Method::GET, "/api/agent-harnesses", None))
    });
    c.bench_function("download/handler/gated_head_accepted_user", |b| {
        b.iter(|| answer(Method::HEAD, head, Some(TOKEN)))
    });

    let digest = TokenSecret::parse(TOKEN).unwrap().digest();
    c.bench_function("download/store/token", |b| {
        b.iter(|| runtime.block_on(store.token(black_box(&digest))).unwrap())
    });
    let repo = RepoRef::new(RepoType::Model, RepoId::parse("owner/gated").unwrap());
    let reader = Name::parse("reader").unwrap();
    let callers = [
        ("by_name", CallerKey::Name(&reader)),
        ("by_token", CallerKey::Token(&digest)),
    ];
    for (named, caller) in callers {
        let read = ContextRead {
            caller: Some(caller),
            file: Some("config.json"),
            ..ContextRead::default()
        };
        c.bench_function(&format!("download/store/repo_context_{named}"), |b| {
            b.iter(|| {
                runtime
                    .block_on(store.repo_context(&repo, black_box(read)))
                    .unwrap()
            })
        });
    }
}

criterion_group!(benches, download);
criterion_main!(benches);
