//! The outside world turned into use-case calls: the REST API and the command line.

pub mod cli;
pub mod http;
pub mod wording;
