//! The use cases: what callers may do to repos and access requests, over the `Store` trait
//! alone. The HTTP handlers (and later the web pages) are thin adapters over these.

pub mod access;
pub mod content;
pub mod identity;
pub mod notifications;
pub mod repos;

pub use identity::{
    Caller, Claim, Credentials, Presented, RepoView, Viewer, authenticate, visible_repo,
};
