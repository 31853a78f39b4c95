//! Black-box tests: the real application over HTTP against fake upstream servers.

mod cli;
mod docs;
mod fake;
mod helpers;
mod realtime;
mod register;
