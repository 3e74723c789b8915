//! Page tests: a browser with a cookie jar, through `api::handle`, over the embedded store.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::{Method, StatusCode};

use super::session::{CSRF_COOKIE, SESSION_COOKIE, SessionKey};
use crate::api::{App, DEFAULT_VIEWER_COUNTRY_HEADER, handle};
use crate::blobs::LocalBlobs;
use crate::domain::{GateMode, Name, RepoId, RepoRef, RepoType, RequestStatus};
use crate::seed::seeded_sqlite;

const OWNER: &str = "hf_owner_write_000000000";
const OWNER_READ: &str = "hf_owner_read_0000000000";
const ALICE: &str = "hf_alice_read_0000000000";

const SEED: &str = r#"
users:
  - {name: owner, fullname: Olga Owner, email: owner@example.com}
  - {name: alice, fullname: Alice <b>A</b>, email: alice@example.com}
orgs:
  - {name: org, fullname: The Org, members: [{user: owner, role: admin}]}
tokens:
  - {user: owner, role: write, name: ci-token, value: hf_owner_write_000000000}
  - {user: owner, role: read, name: read-token, value: hf_owner_read_0000000000}
  - {user: alice, role: read, name: alice-read, value: hf_alice_read_0000000000}
repos:
  - id: org/gated
    gated: manual
    readme: |
      ---
      extra_gated_heading: Ask for the weights
      extra_gated_prompt: "Read the <b>license</b>. <script>alert('prompt')</script> [x](javascript:alert(1))"
      extra_gated_fields:
        Company: text
        Country: country
        Birthday: date_picker
        Use:
          type: select
          options: [research, {label: Other, value: other}]
        I agree: checkbox
      ---
      # The model <script>alert('card')</script>
    files: {config.json: "{}"}
  - {id: org/open, files: {notes.txt: "n"}}
  - {id: org/secret, private: true, gated: manual}
  - {id: org/broken, gated: manual, readme: "---\nextra_gated_fields:\n  X: ip_location\n---\n"}
"#;

struct Browser {
    app: App,
    jar: BTreeMap<String, String>,
    _dir: tempfile::TempDir,
}

struct Page {
    status: StatusCode,
    headers: http::HeaderMap,
    html: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the first hidden `_csrf` input.
    fn csrf(&self) -> String {
        let start = self
            .html
            .find(r#"name="_csrf" value=""#)
            .expect("a CSRF field")
            + 20;
        let end = self.html[start..].find('"').unwrap() + start;
        self.html[start..end].to_owned()
    }

    fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }
}

async fn browser() -> Browser {
    let (store, dir) = seeded_sqlite(SEED).await;
    let blobs = LocalBlobs::new(dir.path().join("blobs"));
    Browser {
        app: App {
            store: Arc::new(store),
            public_url: None,
            viewer_country_header: DEFAULT_VIEWER_COUNTRY_HEADER,
            blobs: Some(Arc::new(blobs)),
            session_key: SessionKey::for_tests(),
        },
        jar: BTreeMap::new(),
        _dir: dir,
    }
}

fn form_body(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).unwrap()
}

impl Browser {
    async fn send(&mut self, method: Method, path: &str, form: Option<String>) -> Page {
        self.send_with(method, path, form, &[]).await
    }

    async fn send_with(
        &mut self,
        method: Method,
        path: &str,
        form: Option<String>,
        headers: &[(&str, &str)],
    ) -> Page {
        let mut builder = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1:8080");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        if !self.jar.is_empty() {
            let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            builder = builder.header("cookie", cookies.join("; "));
        }
        let body = match form {
            Some(form) => {
                builder = builder.header("content-type", "application/x-www-form-urlencoded");
                lambda_http::Body::Text(form)
            }
            None => lambda_http::Body::Empty,
        };
        let response = handle(&self.app, builder.body(body).unwrap()).await;
        let (parts, body) = response.into_parts();
        let page = Page {
            status: parts.status,
            html: String::from_utf8(body.collect().await.unwrap().to_vec()).unwrap(),
            headers: parts.headers,
        };
        for cookie in page.set_cookies() {
            let pair = cookie.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || cookie.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        page
    }

    async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, None).await
    }

    /// Loads `page_path` for its CSRF token, then posts `fields` and it to `action`.
    async fn submit(&mut self, page_path: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.get(page_path).await.csrf();
        let mut all = vec![("_csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.send(Method::POST, action, Some(form_body(&all))).await
    }

    async fn sign_in(&mut self, token: &str) {
        let page = self
            .submit(
                "/login",
                "/login",
                &[("token", token), ("next", "/org/gated")],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.html);
    }

    async fn request_status(&self, user: &str) -> Option<RequestStatus> {
        let repo = RepoRef::new(RepoType::Model, RepoId::parse("org/gated").unwrap());
        let context = self
            .app
            .store
            .repo_context(
                &repo,
                crate::store::ContextRead {
                    caller: Some(crate::store::CallerKey::Name(&Name::parse(user).unwrap())),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        context.caller?.request.map(|r| r.status())
    }
}

const GOOD_ANSWERS: &[(&str, &str)] = &[
    ("field-0", "Initech"),
    ("field-1", "FR"),
    ("field-2", "2000-02-29"),
    ("field-3", "other"),
    ("field-4", "on"),
];

#[tokio::test]
async fn signing_in_sets_a_protected_session_cookie_and_returns_to_the_page() {
    let mut browser = browser().await;
    let form = browser.get("/login?next=/org/gated").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.html.contains(r#"name="next" value="/org/gated""#));
    let csrf = form.csrf();
    let page = browser
        .send(
            Method::POST,
            "/login",
            Some(form_body(&[
                ("_csrf", &csrf),
                ("token", ALICE),
                ("next", "/org/gated"),
            ])),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/org/gated");
    let session = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with(SESSION_COOKIE))
        .expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(!session.contains(ALICE), "the cookie never holds the token");
    let gate = browser.get("/org/gated").await;
    assert!(gate.html.contains("Signed in as <strong>alice</strong>"));
}

#[tokio::test]
async fn a_bad_token_or_a_foreign_next_page_does_not_sign_in_or_send_anyone_away() {
    let mut browser = browser().await;
    let bad = browser
        .submit(
            "/login",
            "/login",
            &[("token", "hf_not_a_real_token_00000")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.html.contains("That token is not valid"));
    assert!(!browser.jar.contains_key(SESSION_COOKIE));
    let away = browser
        .submit(
            "/login",
            "/login",
            &[("token", ALICE), ("next", "//evil.example/")],
        )
        .await;
    assert_eq!(away.location(), "/");
}

#[tokio::test]
async fn the_gate_offers_every_field_type_and_renders_the_prompt_and_card_inert() {
    let mut browser = browser().await;
    browser.sign_in(ALICE).await;
    let page = browser.get("/org/gated").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.html;
    assert!(html.contains("Ask for the weights"));
    assert!(html.contains(r#"<input type="text" id="field-0""#));
    assert!(
        html.contains(r#"<select id="field-1""#)
            && html.contains(r#"<option value="FR">France</option>"#)
    );
    assert!(html.contains(r#"<input type="date" id="field-2""#));
    assert!(html.contains(r#"<option value="other">Other</option>"#));
    assert!(html.contains(r#"<input type="checkbox" id="field-4""#));
    assert!(html.contains("Agree and send request to access repo"));
    assert!(
        html.contains("Alice &#60;b&#62;A&#60;/b&#62;")
            || html.contains("Alice &lt;b&gt;A&lt;/b&gt;"),
        "the full name is escaped"
    );
    assert!(
        html.contains("<b>license</b>"),
        "harmless markup in the prompt formats"
    );
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    let csp = page
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'"));
    assert!(
        html.contains("<h1>The model"),
        "the card is shown before access, as on the Hub"
    );
    assert!(!html.contains("config.json"), "no files before access");
}

#[tokio::test]
async fn the_repo_page_shows_the_card_without_a_blob_store_as_on_aws() {
    let mut browser = browser().await;
    browser.app.blobs = None;
    browser.sign_in(ALICE).await;
    let html = browser.get("/org/gated").await.html;
    assert!(html.contains("<h1>The model"), "{html}");
    assert!(html.contains("<b>license</b>"), "{html}");
}

#[tokio::test]
async fn a_card_kept_without_its_html_shows_its_prompt_as_plain_text() {
    let mut browser = browser().await;
    let repo = RepoRef::new(RepoType::Model, RepoId::parse("org/gated").unwrap());
    let stored = browser.app.store.repo(&repo).await.unwrap().unwrap();
    let commit = crate::store::NewCommit {
        sha: "f".repeat(40),
        files: Vec::new(),
        readme: Some(crate::store::ReadmeUpdate {
            front_matter: stored.front_matter,
            html: crate::domain::ReadmeHtml::default(),
        }),
        at: crate::domain::Timestamp::now(),
    };
    browser.app.store.commit(&repo, &commit).await.unwrap();
    browser.sign_in(ALICE).await;
    let html = browser.get("/org/gated").await.html;
    assert!(
        html.contains(r#"<p class="prompt-text">Read the "#),
        "{html}"
    );
    assert!(
        !html.contains("<b>license</b>") && !html.contains("<script"),
        "{html}"
    );
    assert!(!html.contains("<h1>The model"), "{html}");
}

#[tokio::test]
async fn anonymous_visitors_are_asked_to_sign_in_and_private_repos_stay_hidden() {
    let mut browser = browser().await;
    let page = browser.get("/org/gated").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("/login?next=%2Forg%2Fgated"));
    assert!(!page.html.contains("field-0"));
    let open = browser.get("/org/open").await;
    assert!(
        open.html
            .contains(r#"href="/org/open/resolve/main/notes.txt""#)
    );
    let secret = browser.get("/org/secret").await;
    assert_eq!(secret.status, StatusCode::UNAUTHORIZED);
    assert!(secret.html.contains("Repository not found"));
    assert_eq!(secret.headers["x-error-message"], "Repository not found");
    assert_eq!(secret.headers["x-error-code"], "RepoNotFound");
}

#[tokio::test]
async fn a_wrong_answer_comes_back_next_to_its_field_with_the_answers_kept_and_nothing_stored() {
    let mut browser = browser().await;
    browser.sign_in(ALICE).await;
    let mut answers = GOOD_ANSWERS.to_vec();
    answers[2] = ("field-2", "2001-02-29");
    let page = browser
        .submit("/org/gated", "/org/gated/ask-access", &answers)
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.html.contains(
            r#"<p class="error" id="field-2-error">Birthday is not a real calendar date</p>"#
        ),
        "{}",
        page.html
    );
    assert!(page.html.contains(r#"value="Initech""#));
    assert!(page.html.contains(r#"<option value="FR" selected>"#));
    assert!(page.html.contains(r#"<option value="other" selected>"#));
    assert_eq!(browser.request_status("alice").await, None);
}

#[tokio::test]
async fn a_good_form_is_pending_until_withdrawn() {
    let mut browser = browser().await;
    browser.sign_in(ALICE).await;
    let sent = browser
        .submit("/org/gated", "/org/gated/ask-access", GOOD_ANSWERS)
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.html);
    assert_eq!(sent.location(), "/org/gated");
    let page = browser.get("/org/gated").await;
    assert!(page.html.contains("awaiting review"));
    assert_eq!(
        browser.request_status("alice").await,
        Some(RequestStatus::Pending)
    );
    let withdrawn = browser
        .submit("/org/gated", "/org/gated/withdraw-request", &[])
        .await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER);
    assert_eq!(browser.request_status("alice").await, None);
}

#[tokio::test]
async fn forged_or_missing_csrf_tokens_and_cross_site_posts_change_nothing() {
    let mut browser = browser().await;
    browser.sign_in(ALICE).await;
    let mut forged = vec![("_csrf", "forged")];
    forged.extend_from_slice(GOOD_ANSWERS);
    let page = browser
        .send(
            Method::POST,
            "/org/gated/ask-access",
            Some(form_body(&forged)),
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.html.contains("sent from another site"));
    let missing = browser
        .send(
            Method::POST,
            "/org/gated/ask-access",
            Some(form_body(GOOD_ANSWERS)),
        )
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let csrf = browser.get("/org/gated").await.csrf();
    let mut fields = vec![("_csrf", csrf.as_str())];
    fields.extend_from_slice(GOOD_ANSWERS);
    let request = http::Request::builder()
        .method(Method::POST)
        .uri("/org/gated/ask-access")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .header(
            "cookie",
            browser
                .jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
        .body(lambda_http::Body::Text(form_body(&fields)))
        .unwrap();
    let cross = handle(&browser.app, request).await;
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert_eq!(browser.request_status("alice").await, None);
}

#[tokio::test]
async fn a_tampered_or_expired_session_is_refused_and_cleared() {
    let mut browser = browser().await;
    browser.sign_in(ALICE).await;
    let good = browser.jar[SESSION_COOKIE].clone();
    let (token, rest) = good.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    for bad in [
        format!("{token}.99999999999.{signature}"),
        format!("{token}.1.{signature}"),
        "garbage".to_owned(),
    ] {
        browser.jar.insert(SESSION_COOKIE.into(), bad);
        let page = browser.get("/org/gated").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.html.contains("session has expired"));
        assert!(
            !browser.jar.contains_key(SESSION_COOKIE),
            "the bad cookie is cleared"
        );
    }
    let anonymous = browser.get("/org/gated").await;
    assert_eq!(anonymous.status, StatusCode::OK);
}

#[tokio::test]
async fn pages_also_read_a_bearer_token() {
    let mut curl = browser().await;
    let request = http::Request::builder()
        .uri("/org/gated/settings")
        .header("authorization", format!("Bearer {OWNER}"))
        .body(lambda_http::Body::Empty)
        .unwrap();
    let page = handle(&curl.app, request).await;
    assert_eq!(page.status(), StatusCode::OK);
    let anonymous = curl.get("/org/gated/settings").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let mut browser = browser().await;
    browser.sign_in(ALICE).await;
    let out = browser
        .submit("/org/gated", "/logout", &[("next", "/org/gated")])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(!browser.jar.contains_key(SESSION_COOKIE));
    assert!(browser.jar.contains_key(CSRF_COOKIE));
}

#[tokio::test]
async fn only_managers_open_the_owner_pages() {
    let mut browser = browser().await;
    let anonymous = browser.get("/org/gated/settings").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    browser.sign_in(ALICE).await;
    let stranger = browser.get("/org/gated/settings").await;
    assert_eq!(stranger.status, StatusCode::FORBIDDEN);
    assert!(stranger.html.contains("You need write access"));
    let requests = browser.get("/org/gated/settings/requests/pending").await;
    assert_eq!(requests.status, StatusCode::FORBIDDEN);
    for user in ["alice", "not a name!"] {
        let review = browser
            .submit(
                "/org/gated",
                "/org/gated/settings/requests",
                &[("user", user), ("action", "accepted")],
            )
            .await;
        assert_eq!(review.status, StatusCode::FORBIDDEN, "{user}");
    }
    let mut reader = self::browser().await;
    reader.sign_in(OWNER_READ).await;
    let read_only = reader.get("/org/gated/settings").await;
    assert_eq!(read_only.status, StatusCode::FORBIDDEN);
    assert!(read_only.html.contains("read-only"));
}

#[tokio::test]
async fn the_settings_page_checks_the_card_and_saves_all_or_nothing() {
    let mut owner = browser().await;
    owner.sign_in(OWNER).await;
    let page = owner.get("/org/gated/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.html.contains("The README&#39;s form is valid")
            || page.html.contains("The README's form is valid")
    );
    assert!(page.html.contains("<td>Birthday</td><td>date_picker</td>"));
    assert!(page.html.contains(r#"value="manual" checked"#));
    let bad = owner
        .submit(
            "/org/gated/settings",
            "/org/gated/settings",
            &[
                ("gated", "auto"),
                ("notifications", "real-time"),
                ("email", "not an email"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.html.contains("invalid gatedNotificationsEmail"));
    assert!(
        bad.html.contains(r#"value="auto" checked"#),
        "the choice is kept"
    );
    let repo = RepoRef::new(RepoType::Model, RepoId::parse("org/gated").unwrap());
    assert_eq!(
        owner.app.store.repo(&repo).await.unwrap().unwrap().gate,
        GateMode::Manual
    );
    let saved = owner
        .submit(
            "/org/gated/settings",
            "/org/gated/settings",
            &[
                ("gated", "auto"),
                ("notifications", "real-time"),
                ("email", "team@example.com"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(saved.location(), "/org/gated/settings?saved=1");
    let stored = owner.app.store.repo(&repo).await.unwrap().unwrap();
    assert_eq!(stored.gate, GateMode::Auto);
    assert!(
        !stored.requester_emails,
        "an unticked box turns requester mail off"
    );
}

#[tokio::test]
async fn the_owner_accepts_from_the_review_page_and_the_requester_then_downloads() {
    let mut alice = browser().await;
    alice.sign_in(ALICE).await;
    alice
        .submit("/org/gated", "/org/gated/ask-access", GOOD_ANSWERS)
        .await;
    let denied = alice.get("/org/gated/resolve/main/config.json").await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    let mut owner = Browser {
        app: App {
            store: alice.app.store.clone(),
            public_url: None,
            viewer_country_header: DEFAULT_VIEWER_COUNTRY_HEADER,
            blobs: alice.app.blobs.clone(),
            session_key: alice.app.session_key.clone(),
        },
        jar: BTreeMap::new(),
        _dir: tempfile::tempdir().unwrap(),
    };
    owner.sign_in(OWNER).await;
    let pending = owner.get("/org/gated/settings/requests/pending").await;
    assert_eq!(pending.status, StatusCode::OK);
    assert!(
        pending.html.contains("<dt>Company</dt><dd>Initech</dd>"),
        "{}",
        pending.html
    );
    assert!(pending.html.contains("alice@example.com"));
    let accepted = owner
        .submit(
            "/org/gated/settings/requests/pending",
            "/org/gated/settings/requests",
            &[
                ("user", "alice"),
                ("action", "accepted"),
                ("tab", "pending"),
            ],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.html);
    assert_eq!(accepted.location(), "/org/gated/settings/requests/pending");
    assert_eq!(
        alice.request_status("alice").await,
        Some(RequestStatus::Accepted)
    );

    let page = alice.get("/org/gated").await;
    assert!(page.html.contains("Access granted"));
    assert!(
        page.html
            .contains(r#"href="/org/gated/resolve/main/config.json""#)
    );
    let file = alice.get("/org/gated/resolve/main/config.json").await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.html, "{}");

    let rejected = owner
        .submit(
            "/org/gated/settings/requests/accepted",
            "/org/gated/settings/requests",
            &[
                ("user", "alice"),
                ("action", "rejected"),
                ("reason", "not eligible"),
                ("tab", "accepted"),
            ],
        )
        .await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER);
    let page = alice.get("/org/gated").await;
    assert!(page.html.contains("Reason: not eligible"));
    let bad = owner
        .submit(
            "/org/gated/settings/requests/pending",
            "/org/gated/settings/requests",
            &[("user", "alice"), ("action", "maybe")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        alice.request_status("alice").await,
        Some(RequestStatus::Rejected)
    );
}

#[tokio::test]
async fn the_api_takes_a_session_for_reading_but_never_for_changes() {
    let mut owner = browser().await;
    owner.sign_in(OWNER).await;
    let report = owner
        .get("/api/models/org/gated/user-access-request/report?format=csv")
        .await;
    assert_eq!(report.status, StatusCode::OK);
    let body = serde_json::json!({"gated": false}).to_string();
    let mut builder = http::Request::builder()
        .method(Method::PUT)
        .uri("/api/models/org/gated/settings")
        .header("content-type", "application/json");
    for (name, value) in &owner.jar {
        builder = builder.header("cookie", format!("{name}={value}"));
    }
    let put = handle(
        &owner.app,
        builder.body(lambda_http::Body::Text(body)).unwrap(),
    )
    .await;
    assert_eq!(put.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_api_refuses_a_session_whose_token_was_revoked_as_an_expired_session() {
    let mut alice = browser().await;
    alice.sign_in(ALICE).await;
    let file = "/org/open/resolve/main/notes.txt";
    assert_eq!(alice.get(file).await.status, StatusCode::OK);

    let name = crate::domain::Name::parse("alice").unwrap();
    alice
        .app
        .store
        .revoke_token(&name, "alice-read")
        .await
        .unwrap();
    for path in [file, "/api/models/org/open", "/api/models/org/missing"] {
        let refused = alice.get(path).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(refused.html.contains("session has expired"), "{path}");
    }
}

#[tokio::test]
async fn the_settings_page_shows_why_a_card_cannot_be_read() {
    let mut owner = browser().await;
    owner.sign_in(OWNER).await;
    let page = owner.get("/org/broken/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("cannot be read"), "{}", page.html);
    assert!(page.html.contains("ip_location"), "{}", page.html);
}

#[tokio::test]
async fn the_requests_tabs_page_through_every_request() {
    let mut seed = String::from(SEED);
    seed.push_str("requests:\n");
    let users: Vec<String> = (0..55).map(|i| format!("u{i:02}")).collect();
    let mut accounts = String::new();
    for (i, user) in users.iter().enumerate() {
        accounts.push_str(&format!("  - {{name: {user}, fullname: U {i}}}\n"));
        seed.push_str(&format!(
            "  - {{repo: org/gated, user: {user}, status: pending, fields: {{Company: C{i:02}, Country: FR, Birthday: 2000-01-01, Use: research, I agree: true}}, time: \"2024-01-01T00:00:{:02}.000Z\"}}\n",
            i
        ));
    }
    let seed = seed.replacen("orgs:", &format!("{accounts}orgs:"), 1);
    let (store, dir) = seeded_sqlite(&seed).await;
    let mut owner = Browser {
        app: App {
            store: Arc::new(store),
            public_url: None,
            viewer_country_header: DEFAULT_VIEWER_COUNTRY_HEADER,
            blobs: None,
            session_key: SessionKey::for_tests(),
        },
        jar: BTreeMap::new(),
        _dir: dir,
    };
    owner.sign_in(OWNER).await;
    let first = owner.get("/org/gated/settings/requests/pending").await;
    assert_eq!(first.html.matches("<article class=\"request\"").count(), 50);
    assert!(first.html.contains("Request of u00") && !first.html.contains("Request of u50"));
    let start = first
        .html
        .find("?cursor=")
        .expect("a link to the next page");
    let end = first.html[start..].find('"').unwrap() + start;
    let next = format!(
        "/org/gated/settings/requests/pending{}",
        &first.html[start..end]
    );
    let second = owner
        .get(&next.replace("&#38;", "&").replace("&amp;", "&"))
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.html);
    assert_eq!(second.html.matches("<article class=\"request\"").count(), 5);
    assert!(second.html.contains("Request of u54") && !second.html.contains("rel=\"next\""));
    let forged = owner
        .get("/org/gated/settings/requests/pending?cursor=forged")
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_owner_grants_a_user_who_never_asked_and_moves_a_request_back_to_pending() {
    let mut owner = browser().await;
    owner.sign_in(OWNER).await;
    let granted = owner
        .submit(
            "/org/gated/settings/requests/pending",
            "/org/gated/settings/requests",
            &[("user", "alice"), ("action", "grant"), ("tab", "pending")],
        )
        .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.html);
    assert_eq!(granted.location(), "/org/gated/settings/requests/accepted");
    assert_eq!(
        owner.request_status("alice").await,
        Some(RequestStatus::Accepted)
    );
    let accepted = owner.get("/org/gated/settings/requests/accepted").await;
    assert!(accepted.html.contains("Back to pending"));
    let back = owner
        .submit(
            "/org/gated/settings/requests/accepted",
            "/org/gated/settings/requests",
            &[
                ("user", "alice"),
                ("action", "pending"),
                ("tab", "accepted"),
            ],
        )
        .await;
    assert_eq!(back.location(), "/org/gated/settings/requests/accepted");
    assert_eq!(
        owner.request_status("alice").await,
        Some(RequestStatus::Pending)
    );
    let nobody = owner
        .submit(
            "/org/gated/settings/requests/pending",
            "/org/gated/settings/requests",
            &[("user", "nobody"), ("action", "grant")],
        )
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    assert!(
        nobody.html.contains("nobody") || nobody.html.contains("not found"),
        "{}",
        nobody.html
    );
}

#[tokio::test]
async fn behind_https_the_cookies_are_secure() {
    let mut browser = browser().await;
    let form = browser
        .send_with(
            Method::GET,
            "/login",
            None,
            &[("x-forwarded-proto", "https")],
        )
        .await;
    let csrf_cookie = form.set_cookies()[0].to_owned();
    assert!(csrf_cookie.ends_with("; Secure"), "{csrf_cookie}");
    let csrf = form.csrf();
    let signed_in = browser
        .send_with(
            Method::POST,
            "/login",
            Some(form_body(&[("_csrf", &csrf), ("token", ALICE)])),
            &[("x-forwarded-proto", "https")],
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert!(
        signed_in
            .set_cookies()
            .iter()
            .all(|c| c.ends_with("; Secure"))
    );
}
