//! The report: one row a scenario, printed as a Markdown table.

use crate::measure::Timing;

/// One scenario's line in the report.
pub struct Row {
    scenario: String,
    calls: String,
    users_read: String,
    timing: Timing,
    target: String,
}

impl Row {
    pub fn new(
        scenario: impl Into<String>,
        calls: impl ToString,
        users_read: impl ToString,
        timing: Timing,
        target: impl Into<String>,
    ) -> Self {
        Self {
            scenario: scenario.into(),
            calls: calls.to_string(),
            users_read: users_read.to_string(),
            timing,
            target: target.into(),
        }
    }
}

/// Whether a target holds, as the report says it.
pub fn verdict(holds: bool) -> &'static str {
    if holds { "holds" } else { "MISSED" }
}

/// Whether every request of a load succeeded, as the report says it.
pub fn answers(failed: u64) -> String {
    if failed == 0 {
        "every request answered below 400".to_owned()
    } else {
        format!("{failed} answered 400 or more (429 included) or not at all: MISSED")
    }
}

pub fn print(rows: &[Row]) {
    println!("| scenario | upstream calls | X users read | p50 | p99 | requests/s | target |");
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        let Timing { p50, p99, rate } = &r.timing;
        println!(
            "| {} | {} | {} | {p50} | {p99} | {rate} | {} |",
            r.scenario, r.calls, r.users_read, r.target
        );
    }
}
