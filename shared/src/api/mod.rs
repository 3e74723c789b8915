//! The HTTP adapter: a `lambda_http` request in, a response out, the same code in Lambda and
//! in the local server. Requests are routed by the one routing table; handlers read the
//! request, call a use case of `service`, and write JSON; errors become answers in `error`.

mod body;
mod error;
mod handlers;
mod json;
pub mod routes;

use std::sync::Arc;

use http::{HeaderName, Method, Response};
use lambda_http::Request;

pub use body::Body;
pub use error::{ErrorContext, error_response};
pub(crate) use error::{describe, header_value};
pub use handlers::{Endpoint, endpoint_name, endpoints};
pub(crate) use json::{authorization, form_pairs, is_form, query, query_value, see_other};
pub use routes::{Handler, ROUTES, Route, RouteMatch};

use crate::blobs::BlobStore;
use crate::domain::Country;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::web::SessionKey;

/// The largest request body gatehouse reads.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Where CloudFront puts the viewer's country (`CloudFront-Viewer-Country: FR`): the default
/// of [`App::viewer_country_header`].
pub const DEFAULT_VIEWER_COUNTRY_HEADER: HeaderName =
    HeaderName::from_static("cloudfront-viewer-country");

/// What every handler shares: built once at start-up.
pub struct App {
    pub store: Arc<dyn Store>,
    /// The server's public base URL (`https://hub.example.com`), used in `Link` headers and
    /// messages. Without it, the request's `Host` header decides.
    pub public_url: Option<String>,
    /// The request header that carries the viewer's ISO 3166-1 alpha-2 country, for
    /// `extra_gated_eu_disallowed`.
    pub viewer_country_header: HeaderName,
    /// File content; `None` in a function that serves none (every function but the edge
    /// worker).
    pub blobs: Option<Arc<dyn BlobStore>>,
    /// Signs browser sessions and the CSRF tokens of their forms.
    pub session_key: SessionKey,
}

/// One request's view of the server: where it is reached, and whether to send a body.
pub struct Exchange<'a> {
    pub app: &'a App,
    pub request: &'a Request,
    pub base_url: String,
}

impl Exchange<'_> {
    /// The viewer's country, from the configured header. A missing or malformed value is an
    /// unknown location, which the gate counts as outside the EU, rather than an error:
    /// CloudFront always sends the header, so it is missing only when the request did not
    /// come through CloudFront (the local server, a test), and then there is no one to ask.
    pub(crate) fn viewer_country(&self) -> Option<Country> {
        self.request
            .headers()
            .get(&self.app.viewer_country_header)
            .and_then(|value| value.to_str().ok())
            .and_then(Country::parse)
    }
}

/// Answers one request: routes it and runs its handler, any of the table's (the local server).
/// Never fails: errors are answers.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    respond(app, request, |exchange, matched| {
        Box::pin(handlers::run(exchange, matched))
    })
    .await
}

/// Answers one request for one endpoint (a Lambda function, which links only its own
/// handler): a path routed to another handler is refused as no route of this function's.
pub async fn handle_endpoint(app: &App, endpoint: Endpoint, request: Request) -> Response<Body> {
    respond(app, request, move |exchange, matched| {
        if matched.handler == endpoint.handler {
            return (endpoint.run)(exchange, matched);
        }
        tracing::warn!(
            function = endpoint.handler.function_name(),
            route_of = matched.handler.function_name(),
            path = exchange.request.uri().path(),
            "refused a request routed to the wrong function"
        );
        Box::pin(std::future::ready(Err(Error::NoSuchRoute)))
    })
    .await
}

async fn respond(
    app: &App,
    request: Request,
    run: impl for<'a> FnOnce(
        &'a Exchange<'a>,
        RouteMatch,
    ) -> futures::future::BoxFuture<'a, Result<Response<Body>>>,
) -> Response<Body> {
    let head = request.method() == Method::HEAD;
    let exchange = Exchange {
        app,
        base_url: base_url(app, &request),
        request: &request,
    };
    let answer = match routes::find(request.method(), request.uri().path()) {
        Ok(_) if exchange.request.body().len() > MAX_BODY_BYTES => Err(Error::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        }),
        Ok(matched) => run(&exchange, matched).await,
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
