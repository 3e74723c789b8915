//! gatehouse's common crate, shared by the local server and every Lambda function.
//!
//! - [`domain`]: repo ids, gate modes, users, organizations, tokens, access requests and
//!   the one gate decision function. Plain data, no I/O.
//! - [`card`]: the gate card parsed from a README's YAML front matter, and answer validation.
//! - [`store`]: the `Store` trait, its embedded SQLite implementation, and the contract suite
//!   every implementation must pass.
//! - [`api`]: the routing table, the HTTP handlers (lambda_http request in, response out) and
//!   the one place where errors become HTTP answers.
//! - [`web`]: the web pages (sign-in, the repo page and its gate, the owners' settings and
//!   review), handlers of the same routing table rendered from templates.
//! - [`seed`]: loading a YAML seed file into an empty store.
//! - [`lambda`]: the Lambda adapter every function under `functions/` shares.

pub mod api;
pub mod blobs;
pub mod card;
pub mod domain;
pub mod error;
pub mod events;
pub mod lambda;
pub mod mail;
pub mod seed;
pub mod service;
pub mod store;
pub mod web;
