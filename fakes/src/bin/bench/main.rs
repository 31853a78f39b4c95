//! `connected-bench`: the release `connected` binary against the project's fake GitHub and X
//! (real HTTP, real wire formats, a latency of choice, synthetic graphs), scenario by
//! scenario, counting the upstream calls and X users read, and timing the answers.
//!
//! ```sh
//! cargo build --release --locked
//! cargo run --release -p connected-fakes --bin connected-bench -- [--binary PATH] [--duration 10s]
//! ```
//!
//! Scenario 6 uses `wrk` when it is installed (Debian: `apt-get install wrk`) and a built-in
//! load generator otherwise. Nothing leaves the machine.

mod measure;
mod report;
mod scenarios;
mod stage;

use stage::Bench;
use std::path::PathBuf;
use std::time::Duration;

struct Options {
    /// The `connected` binary.
    binary: PathBuf,
    /// How long each load of scenario 6 lasts.
    duration: Duration,
}

fn options() -> Options {
    let mut options = Options {
        binary: PathBuf::from("target/release/connected"),
        duration: Duration::from_secs(10),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--binary" => options.binary = args.next().map(PathBuf::from).unwrap_or(options.binary),
            "--duration" => {
                let secs: u64 = args
                    .next()
                    .and_then(|d| d.trim_end_matches('s').parse().ok())
                    .unwrap_or(10);
                options.duration = Duration::from_secs(secs);
            }
            "-h" | "--help" => {
                println!("connected-bench [--binary target/release/connected] [--duration 10s]");
                std::process::exit(0);
            }
            other => {
                eprintln!("unknown argument {other}; see --help");
                std::process::exit(2);
            }
        }
    }
    options
}

#[tokio::main]
async fn main() {
    let options = options();
    // Absolute, since each service runs in a directory of its own.
    let Ok(binary) = options.binary.canonicalize() else {
        eprintln!(
            "{} does not exist: run cargo build --release --locked first",
            options.binary.display()
        );
        std::process::exit(2);
    };
    let bench = Bench::new(Options { binary, ..options });
    let mut rows = scenarios::cold_then_cached(&bench).await;
    rows.push(scenarios::identical_at_once(&bench).await);
    rows.push(scenarios::cheapest_lists(&bench).await);
    rows.push(scenarios::round_trips(&bench).await);
    rows.extend(scenarios::under_load(&bench).await);
    report::print(&rows);
}
