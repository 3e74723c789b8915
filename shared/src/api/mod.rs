//! The HTTP adapter: a `lambda_http` request in, a response out, the same code in Lambda and
//! in the local server. Requests are routed by the one routing table; handlers read the
//! request, call a use case of `service`, and write JSON; errors become answers in `error`.

mod body;
mod error;
mod handlers;
mod json;
pub mod routes;

use std::sync::Arc;

use http::{Method, Response};
use lambda_http::Request;

pub use body::Body;
pub use error::{ErrorContext, error_response};
pub use routes::{Handler, ROUTES, Route, RouteMatch};

use crate::error::{Error, Result};
use crate::store::Store;

/// The largest request body gatehouse reads.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every handler shares: built once at start-up.
pub struct App {
    pub store: Arc<dyn Store>,
    /// The server's public base URL (`https://hub.example.com`), used in `Link` headers and
    /// messages. Without it, the request's `Host` header decides.
    pub public_url: Option<String>,
}

/// One request's view of the server: where it is reached, and whether to send a body.
pub struct Exchange<'a> {
    pub app: &'a App,
    pub request: &'a Request,
    pub base_url: String,
}

/// Answers one request: routes it and runs its handler. Never fails: errors are answers.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let head = request.method() == Method::HEAD;
    let exchange = Exchange {
        app,
        base_url: base_url(app, &request),
        request: &request,
    };
    let answer = match routes::find(request.method(), request.uri().path()) {
        Ok(matched) => handle_route(&exchange, matched).await,
        Err(error) => Err(error),
    };
    let mut response = answer.unwrap_or_else(|error| {
        let context = ErrorContext {
            base_url: &exchange.base_url,
            head,
        };
        error_response(error, &context)
    });
    if head {
        *response.body_mut() = Body::empty();
    }
    response
}

/// Runs the handler of an already matched route.
pub async fn handle_route(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    if exchange.request.body().len() > MAX_BODY_BYTES {
        return Err(Error::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    handlers::run(exchange, matched).await
}

/// The base URL clients reach this server at: configured, or from `Host` (and
/// `X-Forwarded-Proto` behind a proxy), with anything odd in them ignored.
fn base_url(app: &App, request: &Request) -> String {
    if let Some(url) = &app.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let host = header("host")
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = match header("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}
