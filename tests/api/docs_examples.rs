//! Every ```console example of the documentation, run: each file's commands in order in a
//! folder of its own (so a `check` records what a later `history` reads), by `sh -c` with the
//! binary first on `PATH` and none of the service's settings, their output compared with the
//! one shown. A file that calls `http://127.0.0.1:5000` gets a `connected serve --demo` of its
//! own, on a free port put in place of `5000`.

use crate::cli::BIN;
use crate::example_output::{Example, examples, matches, normalise};
use crate::fake::ServiceCommand;
use crate::markdown::{fenced_blocks, markdown_files, read, shown};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// The address the examples show the service on.
const DOCUMENTED_ADDRESS: &str = "127.0.0.1:5000";
/// The most one example's command may take.
const COMMAND_WAIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread")]
async fn every_console_example_prints_what_the_documentation_shows() {
    let mut failures = Vec::new();
    let mut run = 0;
    for file in markdown_files() {
        let found: Vec<Example> = fenced_blocks(&read(&file), "console")
            .iter()
            .flat_map(|block| examples(block).unwrap_or_else(|e| panic!("{}: {e}", shown(&file))))
            .collect();
        if found.is_empty() {
            continue;
        }
        run += found.len();
        failures.extend(run_file(&file, &found).await);
    }
    assert!(run >= 20, "only {run} examples were found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Runs a file's examples in order, in a folder of their own; what differs, said.
async fn run_file(file: &Path, examples: &[Example]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let calls_the_service = examples
        .iter()
        .any(|example| example.command.contains(DOCUMENTED_ADDRESS));
    let service = if calls_the_service {
        let command = ServiceCommand::new(BIN)
            .arg("--demo")
            .current_dir(dir.path());
        Some(command.start().await)
    } else {
        None
    };
    let address = service
        .as_ref()
        .map_or(DOCUMENTED_ADDRESS.to_owned(), |s| s.address.to_string());
    let mut failures = Vec::new();
    for example in examples {
        let command = example.command.replace(DOCUMENTED_ADDRESS, &address);
        let expected = normalise(&example.expected.replace(DOCUMENTED_ADDRESS, &address));
        let printed = run_command(dir.path(), &command).await;
        if !matches(&expected, &normalise(&printed)) {
            failures.push(format!(
                "{}: `{}` printed:\n{printed}\n-- where the documentation shows:\n{}",
                shown(file),
                example.command,
                example.expected
            ));
        }
    }
    failures
}

/// What `sh -c COMMAND` printed, standard error merged into standard output, in `dir`, with
/// the binary's folder first on `PATH`, `HOME` the folder, and nothing else in the environment.
async fn run_command(dir: &Path, command: &str) -> String {
    let binaries = Path::new(BIN).parent().expect("the binary has a folder");
    let path = std::env::var("PATH").unwrap_or_default();
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{{ {command}\n}} 2>&1"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", format!("{}:{path}", binaries.display()))
        .env("HOME", dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(COMMAND_WAIT, child)
        .await
        .unwrap_or_else(|_| panic!("`{command}` took over {COMMAND_WAIT:?}"))
        .unwrap_or_else(|e| panic!("`{command}`: sh cannot run: {e}"));
    let mut printed = String::from_utf8_lossy(&output.stdout).into_owned();
    printed.push_str(&String::from_utf8_lossy(&output.stderr));
    printed
}
