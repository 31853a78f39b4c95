//! What each command does, and how its answers and errors are printed.

use super::out;
use crate::application::{self, CheckError, Freshness, NetworkError, TeamNetwork, UseCases};
use crate::domain::access::Caller;
use crate::domain::{HistoryPage, Pair, PairError, Register, Team, TeamError};
use crate::inbound::http::{ErrorsBody, NetworkBody, RegisterEntry, VerdictBody};
use crate::inbound::wording::{Public, Unread};
use futures::StreamExt as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;

/// A failure as the command line ends on it: its exit code.
trait Exit: Public {
    /// 2 for what the user gave, 3 for what failed in the service or upstream, 4 for an
    /// answer that cannot be read.
    fn exit_code(&self) -> ExitCode;
}

impl Exit for PairError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::from(2)
    }
}

impl Exit for TeamError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::from(2)
    }
}

impl Exit for CheckError {
    fn exit_code(&self) -> ExitCode {
        match self {
            CheckError::MissingUsers(_) => ExitCode::from(2),
            CheckError::Upstream(_) | CheckError::Register(_) => ExitCode::from(3),
            CheckError::Unreadable(_) => ExitCode::from(4),
        }
    }
}

impl Exit for NetworkError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::from(3)
    }
}

impl Exit for Unread {
    fn exit_code(&self) -> ExitCode {
        ExitCode::from(3)
    }
}

fn print_error(error: &impl Exit, json: bool) -> ExitCode {
    let code = error.exit_code();
    let body = ErrorsBody {
        errors: error.public_messages(),
    };
    if json {
        return out::answer(
            &serde_json::to_string_pretty(&body).unwrap_or_default(),
            code,
        );
    }
    for message in &body.errors {
        eprintln!("error: {message}");
    }
    code
}

pub(super) async fn check(use_cases: &UseCases, dev1: &str, dev2: &str, json: bool) -> ExitCode {
    let pair = match Pair::parse(dev1, dev2) {
        Ok(pair) => pair,
        Err(e) => return print_error(&e, json),
    };
    // The operator asks: no key's budget, the service's still.
    let caller = Caller::anonymous();
    let check = match use_cases.check(&pair, Freshness::Cached, &caller).await {
        Ok(check) => check,
        Err(e) => return print_error(&e, json),
    };
    let code = if check.verdict.is_connected() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    let text = if json {
        serde_json::to_string_pretty(&VerdictBody::from(&check.verdict)).unwrap_or_default()
    } else if check.verdict.is_connected() {
        format!(
            "{dev1} and {dev2} are fully connected: they follow each other and share {}",
            check.verdict.organisations().join(", ")
        )
    } else {
        format!("{dev1} and {dev2} are not fully connected")
    };
    out::answer(&text, code)
}

pub(super) async fn history(
    register: &dyn Register,
    dev1: &str,
    dev2: &str,
    json: bool,
) -> ExitCode {
    let pair = match Pair::parse(dev1, dev2) {
        Ok(pair) => pair,
        Err(e) => return print_error(&e, json),
    };
    let mut history = application::history(register, &pair, HistoryPage::default());
    // Printed as read, so that a long history never has to fit in memory.
    let mut writer = std::io::BufWriter::new(std::io::stdout().lock());
    let mut printed = 0_usize;
    while let Some(check) = history.next().await {
        let check = match check {
            Ok(check) => check,
            Err(e) if printed == 0 => return print_error(&Unread(e), json),
            Err(e) => {
                // Whatever was printed stays; the JSON is left unclosed, so it cannot pass
                // for the whole history.
                let _ = writer.flush();
                eprintln!("error: {e}");
                return ExitCode::from(3);
            }
        };
        let entry = RegisterEntry::from(&check);
        let line = if json {
            // The layout of serde_json's pretty printer for the whole array.
            let pretty = serde_json::to_string_pretty(&entry).unwrap_or_default();
            let indented = pretty.replace('\n', "\n  ");
            let before = if printed == 0 { "[\n  " } else { ",\n  " };
            format!("{before}{indented}")
        } else {
            // The time, the social graph that decided, the answer, and whether a member's
            // sign-in told the follows (said only when it did).
            let at = format!("{}  {:<7}", entry.registered_at, entry.social_graph);
            let member = if entry.member_sign_in {
                "  (a member's sign-in)"
            } else {
                ""
            };
            match entry.organisations {
                Some(orgs) => format!("{at}  connected      {}{member}\n", orgs.join(", ")),
                None => format!("{at}  not connected{member}\n"),
            }
        };
        if let Err(e) = writer.write_all(line.as_bytes()) {
            // A reader gone away wants no more of it: nothing more is read.
            return out::ended(Err(e), ExitCode::SUCCESS);
        }
        printed += 1;
    }
    let end = match (json, printed) {
        (true, 0) => "[]\n".to_owned(),
        (true, _) => "\n]\n".to_owned(),
        (false, 0) => format!("no record for {dev1} and {dev2}\n"),
        (false, _) => String::new(),
    };
    out::ended(
        writer
            .write_all(end.as_bytes())
            .and_then(|()| writer.flush()),
        ExitCode::SUCCESS,
    )
}

pub(super) async fn healthcheck(mut address: SocketAddr, timeout: std::time::Duration) -> ExitCode {
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("http://{address}/healthz");
    let answer = match reqwest::Client::builder().timeout(timeout).build() {
        Ok(client) => client.get(&url).send().await,
        Err(e) => {
            eprintln!("unhealthy: {e}");
            return ExitCode::from(1);
        }
    };
    match answer {
        Ok(response) if response.status().is_success() => ExitCode::SUCCESS,
        Ok(response) => {
            eprintln!("unhealthy: {url} answered {}", response.status());
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("unhealthy: {url}: {e}");
            ExitCode::from(1)
        }
    }
}

pub(super) async fn network(
    use_cases: &UseCases,
    developers: &[String],
    json: bool,
    dot: bool,
) -> ExitCode {
    let team = match Team::parse(developers) {
        Ok(team) => team,
        Err(e) => return print_error(&e, json),
    };
    // The operator asks: no key's budget, the service's still.
    let caller = Caller::anonymous();
    let network = match use_cases.network(&team, Freshness::Cached, &caller).await {
        Ok(network) => network,
        Err(e) => return print_error(&e, json),
    };
    if json {
        return out::answer(
            &serde_json::to_string_pretty(&NetworkBody::from(&network)).unwrap_or_default(),
            ExitCode::SUCCESS,
        );
    }
    for missing in &network.missing {
        eprintln!("error: {missing}");
    }
    for undecided in &network.undecided {
        eprintln!("error: {}", undecided.why);
    }
    if dot {
        return out::ended(out::print(&graphviz(&network)), ExitCode::SUCCESS);
    }
    let mut lines = Vec::new();
    if network.connections.is_empty() {
        lines.push("no two of them are fully connected".to_owned());
    }
    for connection in &network.connections {
        let [a, b] = &connection.developers;
        lines.push(format!(
            "{a} and {b} are fully connected: {}",
            connection.organisations.join(", ")
        ));
    }
    for group in &network.groups {
        lines.push(format!("group: {}", group.join(", ")));
    }
    out::answer(&lines.join("\n"), ExitCode::SUCCESS)
}

/// The network in Graphviz's DOT language: every developer present a node, every connection
/// an edge labelled with the shared organisations.
fn graphviz(network: &TeamNetwork) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let missing: std::collections::HashSet<&str> = network
        .missing
        .iter()
        .map(|m| m.developer.as_str())
        .collect();
    let mut out = String::from("graph connected {\n  node [shape=box];\n");
    for developer in network
        .developers
        .iter()
        .filter(|d| !missing.contains(d.as_str()))
    {
        out += &format!("  {};\n", quote(developer));
    }
    for connection in &network.connections {
        let [a, b] = &connection.developers;
        out += &format!(
            "  {} -- {} [label={}];\n",
            quote(a),
            quote(b),
            quote(&connection.organisations.join(", "))
        );
    }
    out += "}\n";
    out
}
