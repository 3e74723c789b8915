//! Prints the routing table as the deployed gateway declares it, as JSON: each handler's
//! function, the endpoint its `main` runs, whether it streams, and its routes with every API Gateway path they expand to.
//! `tests/infra` checks `infra/template.yaml` against it.
//!
//!     cargo run -q -p shared --example routes

use serde_json::{Value, json};
use shared::api::routes::gateway_routes;
use shared::api::{DEFAULT_VIEWER_COUNTRY_HEADER, Handler, endpoint_name};
use shared::lambda::VIEWER_AUTHORIZATION;

fn main() {
    let gateway = gateway_routes();
    let functions: Vec<Value> = Handler::ALL
        .iter()
        .map(|&handler| {
            let routes: Vec<Value> = gateway
                .iter()
                .filter(|route| route.handler == handler)
                .map(|route| {
                    json!({
                        "method": route.method.as_str(),
                        "pattern": route.pattern,
                        "path": route.path,
                    })
                })
                .collect();
            json!({
                "function": handler.function_name(),
                "handler": format!("{handler:?}"),
                "endpoint": endpoint_name(handler),
                "streams": handler.streams(),
                "routes": routes,
            })
        })
        .collect();
    let table = json!({
        "viewerAuthorizationHeader": VIEWER_AUTHORIZATION,
        "viewerCountryHeader": DEFAULT_VIEWER_COUNTRY_HEADER.as_str(),
        "functions": functions,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&table).expect("JSON values serialize")
    );
}
