//! connected: whether two developers are fully connected — they follow each other on X and
//! share at least one GitHub organisation — with a register of every answer.
#![forbid(unsafe_code)]

pub mod application;
pub mod config;
pub mod domain;
pub mod inbound;
pub mod metrics;
pub mod outbound;
pub mod periodic;
pub mod secret;
pub mod startup;
