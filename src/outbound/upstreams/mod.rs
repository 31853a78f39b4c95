//! The APIs asked for facts: GitHub as the code host, X or Bluesky as the social graph, the
//! offline demo graph as both, the providers members sign in with, and the one HTTP client
//! they share, with what it spends.

pub mod bluesky;
pub mod client;
pub mod demo;
pub mod github;
pub mod sign_in;
pub mod x;
