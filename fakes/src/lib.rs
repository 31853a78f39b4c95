//! Fake GitHub and X servers over real HTTP, speaking their real wire formats: pagination by
//! `Link` header and `pagination_token`, rate-limit headers on every answer, errors in each
//! API's own shape. Each fake counts the calls it receives. And `connected serve` itself,
//! started on a port of its own choosing and waited for until ready.

mod bluesky;
mod github;
mod graph;
mod hostile;
mod oauth;
mod server;
mod service;
mod x;

pub use bluesky::bluesky;
pub use github::{GITHUB_OAUTH_CLIENT_ID, GITHUB_OAUTH_CLIENT_SECRET, github};
pub use graph::Graph;
pub use hostile::HostileOrgs;
pub use oauth::pkce_challenge;
pub use server::{Endpoint, Failure, Fake};
pub use service::{Service, ServiceCommand};
pub use x::{X_OAUTH_CLIENT_ID, X_OAUTH_CLIENT_SECRET, X_TOKEN, x};

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in Unix seconds, as rate-limit resets are given.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
