//! The Lambda adapter every function shares: its typed configuration, its logs, the app it
//! builds once at start-up, and the answer to one request.
//!
//! A route function answers only its own handler's routes: a request that the routing table
//! gives to another handler gets the normal 404 answer, so a misconfigured gateway route can
//! never run another function's code (with that function's permissions).

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use aws_config::SdkConfig;
use http::{HeaderName, HeaderValue, Method, Response};
use lambda_http::Request;
use tracing_subscriber::EnvFilter;

use crate::api::{
    self, App, Body, DEFAULT_VIEWER_COUNTRY_HEADER, Endpoint, ErrorContext, error_response,
};
use crate::blobs::S3Blobs;
use crate::error::Error;
use crate::events::EventBridgePublisher;
use crate::mail::{Mailbox, SesMailer};
use crate::service::notifications::Notifier;
use crate::store::{CursorKey, DynamoStore, Store};
use crate::web::SessionKey;

mod sdk;

pub use sdk::sdk_config;

/// Behind CloudFront the viewer's `Authorization` never reaches the function as such: origin
/// access control signs origin requests in that header, and CloudFront drops it from cached
/// methods. A CloudFront Function (`infra/template.yaml`) copies it here on every request.
pub const VIEWER_AUTHORIZATION: &str = "x-viewer-authorization";

/// What every function reads from its environment, once, at start-up.
pub struct FunctionConfig {
    /// `TABLE_NAME`: the DynamoDB table.
    pub table_name: String,
    /// `CURSOR_KEY`: the secret that signs pagination cursors, the same for every function
    /// (in the template, a generated Secrets Manager secret).
    pub cursor_key: CursorKey,
    /// `PUBLIC_URL` (optional): the base URL clients reach gatehouse at, e.g. the CloudFront
    /// domain, for absolute `Link` headers. Without it, the request's `Host` decides.
    pub public_url: Option<String>,
    /// `VIEWER_COUNTRY_HEADER` (optional): the request header with the viewer's country code,
    /// `cloudfront-viewer-country` without it.
    pub viewer_country_header: HeaderName,
    /// `BLOB_BUCKET` (the edge worker's only): the S3 bucket of file blobs.
    pub blob_bucket: Option<String>,
    /// `MAIL_FROM` (the notification functions' only): the sender of notification mail,
    /// within the SES identity the template verifies.
    pub mail_from: Option<Mailbox>,
    /// `EVENT_BUS` (the change consumer's only): the EventBridge bus of domain events.
    pub event_bus: Option<String>,
    /// `SESSION_KEY` (the HTTP functions'): the secret that signs browser sessions and CSRF
    /// tokens, the same for every function (a generated Secrets Manager secret).
    pub session_key: Option<SessionKey>,
}

impl fmt::Debug for FunctionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FunctionConfig")
            .field("table_name", &self.table_name)
            .field("public_url", &self.public_url)
            .field("viewer_country_header", &self.viewer_country_header)
            .field("blob_bucket", &self.blob_bucket)
            .field("mail_from", &self.mail_from)
            .field("event_bus", &self.event_bus)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the environment variable {0} is not set")]
    Missing(&'static str),
    #[error("the environment variable {name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl FunctionConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            var(name)
                .filter(|value| !value.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let table_name = required("TABLE_NAME")?;
        let cursor_key = CursorKey::from_secret(&required("CURSOR_KEY")?).map_err(|error| {
            ConfigError::Invalid {
                name: "CURSOR_KEY",
                reason: error.to_string(),
            }
        })?;
        let optional = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let public_url = optional("PUBLIC_URL");
        if let Some(url) = &public_url {
            let valid = url.starts_with("https://") || url.starts_with("http://");
            if !valid || HeaderValue::from_str(url).is_err() {
                return Err(ConfigError::Invalid {
                    name: "PUBLIC_URL",
                    reason: format!("{url:?} is not an http(s) URL"),
                });
            }
        }
        let viewer_country_header = match var("VIEWER_COUNTRY_HEADER") {
            Some(name) if !name.trim().is_empty() => HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| ConfigError::Invalid {
                    name: "VIEWER_COUNTRY_HEADER",
                    reason: format!("{name:?} is not an HTTP header name"),
                })?,
            _ => DEFAULT_VIEWER_COUNTRY_HEADER,
        };
        let mail_from = match optional("MAIL_FROM") {
            Some(text) => Some(text.trim().parse().map_err(|e| ConfigError::Invalid {
                name: "MAIL_FROM",
                reason: format!("{text:?} is not a mailbox: {e}"),
            })?),
            None => None,
        };
        let session_key = match optional("SESSION_KEY") {
            Some(secret) => Some(SessionKey::from_secret(secret.as_bytes()).map_err(|error| {
                ConfigError::Invalid {
                    name: "SESSION_KEY",
                    reason: error.to_string(),
                }
            })?),
            None => None,
        };
        Ok(Self {
            session_key,
            table_name,
            cursor_key,
            public_url,
            viewer_country_header,
            blob_bucket: optional("BLOB_BUCKET"),
            mail_from,
            event_bus: optional("EVENT_BUS"),
        })
    }
}

/// JSON logs, one object a line, which CloudWatch Logs Insights reads field by field. The
/// level comes from `RUST_LOG`, else Lambda's own `AWS_LAMBDA_LOG_LEVEL`, else `info`.
/// No timestamps: CloudWatch stamps every line.
pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(std::env::var("AWS_LAMBDA_LOG_LEVEL").unwrap_or_default()))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_env_filter(filter)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_span_list(false)
        .init();
}

/// The app of a function: the SDK configuration from the Lambda environment (region and
/// credentials) and the DynamoDB store, built once.
pub async fn app_from_env() -> Result<App, ConfigError> {
    let config = FunctionConfig::from_env()?;
    let sdk = sdk_config().await;
    app(config, &sdk)
}

/// The edge worker's app: [`app_from_env`]'s, with the S3 bucket of file blobs named by
/// `BLOB_BUCKET`, whose presigned URLs downloads redirect to. Only the edge worker calls it,
/// so no other function carries the S3 client.
pub async fn app_with_blobs_from_env() -> Result<App, ConfigError> {
    let config = FunctionConfig::from_env()?;
    let bucket = config
        .blob_bucket
        .clone()
        .ok_or(ConfigError::Missing("BLOB_BUCKET"))?;
    let sdk = sdk_config().await;
    let blobs = S3Blobs::new(aws_sdk_s3::Client::new(&sdk), bucket);
    Ok(App {
        blobs: Some(Arc::new(blobs)),
        ..app(config, &sdk)?
    })
}

/// The notification functions' notifier (the stream consumers', the digest's): the DynamoDB
/// store, SES sending as `MAIL_FROM`, and links to `PUBLIC_URL`, all required.
pub async fn notifier_from_env() -> Result<Notifier, ConfigError> {
    let config = FunctionConfig::from_env()?;
    let sdk = sdk_config().await;
    notifier(config, &sdk)
}

/// The change consumer's notifier, and its publisher of domain events on `EVENT_BUS`.
pub async fn notifier_and_events_from_env() -> Result<(Notifier, EventBridgePublisher), ConfigError>
{
    let config = FunctionConfig::from_env()?;
    let bus = config
        .event_bus
        .clone()
        .ok_or(ConfigError::Missing("EVENT_BUS"))?;
    let sdk = sdk_config().await;
    let events = EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&sdk), bus);
    Ok((notifier(config, &sdk)?, events))
}

fn notifier(mut config: FunctionConfig, sdk: &SdkConfig) -> Result<Notifier, ConfigError> {
    let from = config
        .mail_from
        .take()
        .ok_or(ConfigError::Missing("MAIL_FROM"))?;
    let site = config
        .public_url
        .clone()
        .ok_or(ConfigError::Missing("PUBLIC_URL"))?;
    let mailer = SesMailer::new(aws_sdk_ses::Client::new(sdk), from);
    Ok(Notifier {
        store: store(config, sdk),
        mailer: Arc::new(mailer),
        site,
    })
}

fn app(mut config: FunctionConfig, sdk: &SdkConfig) -> Result<App, ConfigError> {
    let session_key = config
        .session_key
        .take()
        .ok_or(ConfigError::Missing("SESSION_KEY"))?;
    Ok(App {
        public_url: config.public_url.clone(),
        viewer_country_header: config.viewer_country_header.clone(),
        store: store(config, sdk),
        blobs: None,
        session_key,
    })
}

fn store(config: FunctionConfig, sdk: &SdkConfig) -> Arc<dyn Store> {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    Arc::new(DynamoStore::new(
        client,
        config.table_name,
        config.cursor_key,
    ))
}

/// Answers a request for `endpoint`'s function behind API Gateway, buffered.
pub async fn answer(
    app: &App,
    endpoint: Endpoint,
    request: Request,
) -> Result<Response<lambda_http::Body>, Infallible> {
    let response = answer_for(app, endpoint, request).await;
    Ok(into_buffered(response, app).await)
}

/// Answers a request for `endpoint`'s function behind a streaming function URL: the body goes
/// out chunk by chunk as the handler makes it.
pub async fn answer_streamed(
    app: &App,
    endpoint: Endpoint,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    Ok(answer_for(app, endpoint, request).await)
}

async fn answer_for(app: &App, endpoint: Endpoint, mut request: Request) -> Response<Body> {
    restore_viewer_authorization(&mut request);
    api::handle_endpoint(app, endpoint, request).await
}

fn restore_viewer_authorization(request: &mut Request) {
    if let Some(value) = request.headers_mut().remove(VIEWER_AUTHORIZATION) {
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, value);
    }
}

fn error_answer(app: &App, error: Error, method: &Method) -> Response<Body> {
    let context = ErrorContext {
        base_url: app.public_url.as_deref().unwrap_or(""),
        head: method == Method::HEAD,
    };
    error_response(error, &context)
}

/// A whole answer for runtimes that buffer. A body that fails midway becomes a 500 answer
/// of the usual shape instead of a broken response.
async fn into_buffered(response: Response<Body>, app: &App) -> Response<lambda_http::Body> {
    let (parts, body) = response.into_parts();
    let (parts, bytes) = match body.collect().await {
        Ok(bytes) => (parts, bytes),
        Err(error) => {
            tracing::error!(%error, "the answer's body failed");
            let failure = crate::store::StoreError::Backend(error.to_string());
            let (parts, body) = error_answer(app, failure.into(), &Method::GET).into_parts();
            (parts, body.collect().await.unwrap_or_default())
        }
    };
    Response::from_parts(parts, lambda_body(bytes.to_vec()))
}

/// UTF-8 travels as text, anything else base64-encoded: lossless either way.
fn lambda_body(bytes: Vec<u8>) -> lambda_http::Body {
    if bytes.is_empty() {
        return lambda_http::Body::Empty;
    }
    match String::from_utf8(bytes) {
        Ok(text) => lambda_http::Body::Text(text),
        Err(error) => lambda_http::Body::Binary(error.into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use bytes::Bytes;
    use futures::stream;
    use http::StatusCode;

    use super::*;
    use crate::api::endpoints;
    use crate::store::SqliteStore;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn local_app() -> (App, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let app = App {
            store: Arc::new(store),
            public_url: None,
            viewer_country_header: DEFAULT_VIEWER_COUNTRY_HEADER,
            blobs: None,
            session_key: crate::web::SessionKey::for_tests(),
        };
        (app, dir)
    }

    fn request(method: Method, path: &str) -> Request {
        http::Request::builder()
            .method(method)
            .uri(path)
            .body(lambda_http::Body::Empty)
            .unwrap()
    }

    async fn text(body: lambda_http::Body) -> String {
        match body {
            lambda_http::Body::Text(text) => text,
            other => panic!("expected text, got {other:?}"),
        }
    }

    #[test]
    fn the_config_reads_the_table_the_cursor_key_and_an_optional_public_url() {
        let config = FunctionConfig::from_vars(vars(&[
            ("TABLE_NAME", "gatehouse"),
            ("CURSOR_KEY", SECRET),
            ("PUBLIC_URL", "https://hub.example.com"),
        ]))
        .unwrap();
        assert_eq!(config.table_name, "gatehouse");
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://hub.example.com")
        );
        let without_url =
            FunctionConfig::from_vars(vars(&[("TABLE_NAME", "t"), ("CURSOR_KEY", SECRET)]))
                .unwrap();
        assert_eq!(without_url.public_url, None);
        assert_eq!(without_url.blob_bucket, None);
        let edge = FunctionConfig::from_vars(vars(&[
            ("TABLE_NAME", "t"),
            ("CURSOR_KEY", SECRET),
            ("BLOB_BUCKET", "blobs-123"),
        ]))
        .unwrap();
        assert_eq!(edge.blob_bucket.as_deref(), Some("blobs-123"));
    }

    #[test]
    fn the_config_names_what_is_missing_or_wrong() {
        let missing = FunctionConfig::from_vars(vars(&[("CURSOR_KEY", SECRET)])).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "the environment variable TABLE_NAME is not set"
        );
        let short =
            FunctionConfig::from_vars(vars(&[("TABLE_NAME", "t"), ("CURSOR_KEY", "short")]))
                .unwrap_err();
        assert!(matches!(
            short,
            ConfigError::Invalid {
                name: "CURSOR_KEY",
                ..
            }
        ));
        let url = FunctionConfig::from_vars(vars(&[
            ("TABLE_NAME", "t"),
            ("CURSOR_KEY", SECRET),
            ("PUBLIC_URL", "hub.example.com"),
        ]))
        .unwrap_err();
        assert!(matches!(
            url,
            ConfigError::Invalid {
                name: "PUBLIC_URL",
                ..
            }
        ));
    }

    #[test]
    fn the_sender_of_notification_mail_is_a_mailbox_or_refused() {
        let base = [("TABLE_NAME", "t"), ("CURSOR_KEY", SECRET)];
        let from = |value| {
            FunctionConfig::from_vars(vars(&[base[0], base[1], ("MAIL_FROM", value)]))
                .map(|config| config.mail_from.map(|m| m.to_string()))
        };
        assert_eq!(
            from("gatehouse <noreply@example.com>").unwrap().as_deref(),
            Some("gatehouse <noreply@example.com>")
        );
        assert_eq!(from(" ").unwrap(), None);
        for bad in ["noreply", "a@b.c\r\nBcc: x@y.z", "<>"] {
            assert!(
                matches!(
                    from(bad),
                    Err(ConfigError::Invalid {
                        name: "MAIL_FROM",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_viewer_country_header_is_cloudfronts_unless_named_otherwise() {
        let base = [("TABLE_NAME", "t"), ("CURSOR_KEY", SECRET)];
        let default = FunctionConfig::from_vars(vars(&base)).unwrap();
        assert_eq!(default.viewer_country_header, "cloudfront-viewer-country");
        let named = FunctionConfig::from_vars(vars(&[
            base[0],
            base[1],
            ("VIEWER_COUNTRY_HEADER", "X-Viewer-Country"),
        ]))
        .unwrap();
        assert_eq!(named.viewer_country_header, "x-viewer-country");
        let invalid = FunctionConfig::from_vars(vars(&[
            base[0],
            base[1],
            ("VIEWER_COUNTRY_HEADER", "viewer country"),
        ]))
        .unwrap_err();
        assert!(matches!(
            invalid,
            ConfigError::Invalid {
                name: "VIEWER_COUNTRY_HEADER",
                ..
            }
        ));
    }

    #[test]
    fn the_config_never_shows_the_cursor_key() {
        let config =
            FunctionConfig::from_vars(vars(&[("TABLE_NAME", "t"), ("CURSOR_KEY", SECRET)]))
                .unwrap();
        assert!(!format!("{config:?}").contains(SECRET));
    }

    #[tokio::test]
    async fn a_function_answers_its_own_route() {
        let (app, _dir) = local_app();
        let response = answer(
            &app,
            endpoints::AGENT_HARNESSES,
            request(Method::GET, "/api/agent-harnesses"),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_function_refuses_another_handlers_route_with_the_usual_404() {
        let (app, _dir) = local_app();
        let response = answer(
            &app,
            endpoints::WHOAMI,
            request(Method::GET, "/api/agent-harnesses"),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers()["x-error-message"],
            "No route matches this path"
        );
        let body: serde_json::Value =
            serde_json::from_str(&text(response.into_body()).await).unwrap();
        assert_eq!(body["error"], "No route matches this path");
    }

    #[tokio::test]
    async fn a_refusal_to_head_has_no_body() {
        let (app, _dir) = local_app();
        let response = answer(
            &app,
            endpoints::WHOAMI,
            request(Method::HEAD, "/api/models/org/m"),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(matches!(response.into_body(), lambda_http::Body::Empty));
    }

    #[tokio::test]
    async fn unknown_paths_and_wrong_methods_get_the_routers_own_answers() {
        let (app, _dir) = local_app();
        let unknown = answer(
            &app,
            endpoints::WHOAMI,
            request(Method::GET, "/nowhere/at/all/x"),
        )
        .await
        .unwrap();
        assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
        let wrong_method = answer(
            &app,
            endpoints::WHOAMI,
            request(Method::POST, "/api/whoami-v2"),
        )
        .await
        .unwrap();
        assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    }

    #[tokio::test]
    async fn the_edge_worker_refuses_an_api_route_that_cloudfront_should_not_send_it() {
        let (app, _dir) = local_app();
        let response = answer_streamed(
            &app,
            endpoints::RESOLVE_FILE,
            request(Method::GET, "/api/agent-harnesses"),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn the_viewers_authorization_replaces_the_origin_signature() {
        let (app, _dir) = local_app();
        let mut signed = request(Method::GET, "/api/whoami-v2");
        signed.headers_mut().insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=cloudfront"),
        );
        signed.headers_mut().insert(
            VIEWER_AUTHORIZATION,
            HeaderValue::from_static("Bearer hf_not_a_known_token_at_all"),
        );
        let response = answer(&app, endpoints::WHOAMI, signed).await.unwrap();
        // The bearer token was read (and is unknown), not CloudFront's signature.
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()["x-error-message"],
            "Invalid credentials in Authorization header"
        );
    }

    #[tokio::test]
    async fn text_stays_text_and_other_bytes_stay_exact() {
        assert!(matches!(lambda_body(Vec::new()), lambda_http::Body::Empty));
        assert_eq!(text(lambda_body(b"{\"a\":1}".to_vec())).await, "{\"a\":1}");
        let binary = vec![0xff, 0x00, 0xfe];
        match lambda_body(binary.clone()) {
            lambda_http::Body::Binary(bytes) => assert_eq!(bytes, binary),
            other => panic!("expected binary, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_streamed_body_is_buffered_whole() {
        let (app, _dir) = local_app();
        let chunks = vec![Ok(Bytes::from("a,b\n")), Ok(Bytes::from("1,2\n"))];
        let response = Response::builder()
            .header("content-type", "text/csv")
            .body(Body::Stream(Box::pin(stream::iter(chunks))))
            .unwrap();
        let buffered = into_buffered(response, &app).await;
        assert_eq!(buffered.headers()["content-type"], "text/csv");
        assert_eq!(text(buffered.into_body()).await, "a,b\n1,2\n");
    }

    #[tokio::test]
    async fn a_body_that_fails_midway_becomes_a_500_answer() {
        let (app, _dir) = local_app();
        let chunks = vec![
            Ok(Bytes::from("a,b\n")),
            Err(std::io::Error::other("the store went away")),
        ];
        let response = Response::builder()
            .body(Body::Stream(Box::pin(stream::iter(chunks))))
            .unwrap();
        let buffered = into_buffered(response, &app).await;
        assert_eq!(buffered.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(text(buffered.into_body()).await.contains("Internal error"));
    }
}
