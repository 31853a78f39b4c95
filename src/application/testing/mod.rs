//! In-memory ports for the use cases' tests: a code host, a social graph that follows a
//! script and writes down every call, and a register. Each can be told to fail, and the graph
//! and the register to take their time.

mod code_host;
mod register;
mod social_graph;

pub use code_host::MemoryCodeHost;
pub use register::{MemoryRegister, Recorded};
pub use social_graph::{Asked, ScriptedGraph, Trigger};

use super::UseCases;
use crate::domain::{Handle, Pair, TestClock};
use std::sync::Arc;

pub fn handle(name: &str) -> Handle {
    Handle::parse(name).unwrap()
}

pub fn pair(dev1: &str, dev2: &str) -> Pair {
    Pair::parse(dev1, dev2).unwrap()
}

/// The use cases on these ports, recording at 2026-12-01T12:00:00.123456Z.
pub fn use_cases(
    code_host: &Arc<MemoryCodeHost>,
    graph: &Arc<ScriptedGraph>,
    register: &Arc<MemoryRegister>,
) -> UseCases {
    UseCases::new(
        code_host.clone(),
        graph.clone(),
        register.clone(),
        TestClock::at("2026-12-01T12:00:00.123456Z"),
    )
}
