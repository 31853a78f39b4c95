//! `connected-fake-upstreams`: the project's fake GitHub, X and Bluesky on loopback, for
//! trying `connected` against realistic upstreams with no internet and no tokens.
//!
//! ```sh
//! cargo run --release -p connected-fakes --bin connected-fake-upstreams -- --team 40 --latency 50
//! ```
//!
//! With `--hostile-orgs huge|many|nul|control`, GitHub answers every user's organisations
//! with what no real GitHub sends (see `HostileOrgs::named`).
//!
//! It prints the environment to point `connected` at them, member sign-in included (the
//! fakes' OAuth apps and web pages, `connected serve`'s default address as the public URL,
//! and a key for the tokens fit for trying only), then serves until Ctrl-C. Their authorise
//! pages approve at once as `dev000`, or as the developer `--approve-as` names, as if that
//! developer were signed in at GitHub and X. The
//! graph: developers `dev000`, `dev001`, … in organisations of four (`org0` holds `dev000` to
//! `dev003`, and so on), each following the two before and the two after it: neighbours in
//! one organisation are fully connected, `dev003`/`dev004` follow each other but share
//! nothing.

use connected_fakes::{
    self as fake, Fake, GITHUB_OAUTH_CLIENT_ID, GITHUB_OAUTH_CLIENT_SECRET, Graph, HostileOrgs,
    X_OAUTH_CLIENT_ID, X_OAUTH_CLIENT_SECRET, X_TOKEN,
};
use std::time::Duration;

/// The key members' tokens are encrypted with when `connected` runs against the fakes: a
/// fixed one, as the fakes' tokens open nothing real.
const TRY_TOKEN_KEY: &str = "ZmFrZS11cHN0cmVhbXMtdG9rZW4ta2V5LTAwMDAwMDE=";

/// What the command line asks for.
struct Options {
    /// How many developers.
    team: usize,
    /// Milliseconds each answer waits first.
    latency: u64,
    /// What GitHub answers for organisations instead of the graph's.
    hostile_orgs: Option<HostileOrgs>,
    /// Which developer approves a sign-in on the authorise pages (none: `dev000`).
    approve_as: Option<String>,
}

/// The options given, or `None` when an argument is not one (then the usage is printed).
fn options() -> Option<Options> {
    let mut options = Options {
        team: 20,
        latency: 0,
        hostile_orgs: None,
        approve_as: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--team" => options.team = number(args.next()).unwrap_or(options.team),
            "--latency" => options.latency = number(args.next()).unwrap_or(options.latency),
            "--hostile-orgs" => {
                options.hostile_orgs = Some(HostileOrgs::named(&args.next()?)?);
            }
            "--approve-as" => options.approve_as = Some(args.next()?.to_lowercase()),
            _ => return None,
        }
    }
    Some(options)
}

fn number<T: std::str::FromStr>(arg: Option<String>) -> Option<T> {
    arg.and_then(|n| n.parse().ok())
}

/// `team` developers (at least two) in organisations of four, each following the two before
/// and the two after it, round the team.
fn graph(team: usize) -> (Graph, usize) {
    let names: Vec<String> = (0..team.max(2)).map(|i| format!("dev{i:03}")).collect();
    let n = names.len();
    let graph = names
        .iter()
        .enumerate()
        .fold(Graph::new(), |graph, (i, name)| {
            let org = format!("org{}", i / 4);
            let follows: Vec<&str> = [n - 2, n - 1, 1, 2]
                .iter()
                .map(|step| names[(i + step) % n].as_str())
                .filter(|other| *other != name.as_str())
                .collect();
            graph.dev(name, &[org.as_str()], &follows)
        });
    (graph, n)
}

#[tokio::main]
async fn main() {
    let Some(Options {
        team,
        latency,
        hostile_orgs,
        approve_as,
    }) = options()
    else {
        return usage();
    };
    let (graph, n) = graph(team);
    let approver = approve_as.unwrap_or_else(|| "dev000".to_owned());
    if !(0..n).any(|i| format!("dev{i:03}") == approver) {
        println!("# {approver} is not one of the {n} developers");
        return usage();
    }
    let (github, x, bluesky) = (
        fake::github(graph.clone()).await,
        fake::x(graph.clone()).await,
        fake::bluesky(graph).await,
    );
    for upstream in [&github, &x, &bluesky] {
        upstream.set_latency(Duration::from_millis(latency));
    }
    github.approve_as(&approver);
    x.approve_as(&approver);
    if let Some(hostile) = hostile_orgs {
        println!("# GitHub answers every organisation list with names no GitHub has");
        github.answer_orgs(hostile);
    }
    println!(
        "# {n} developers (dev000 … dev{:03}), {latency} ms per call",
        n - 1
    );
    println!("export GITHUB_API_URL={}", github.url);
    println!("export TWITTER_API_URL={}", x.url);
    println!("export TWITTER_BEARER_TOKEN={X_TOKEN}");
    println!("export BLUESKY_API_URL={}", bluesky.url);
    println!("# member sign-in: the authorise pages approve as {approver}");
    println!("export PUBLIC_URL=http://127.0.0.1:5000");
    println!("export TOKEN_KEY={TRY_TOKEN_KEY}");
    println!("export GITHUB_WEB_URL={}", github.url);
    println!("export GITHUB_OAUTH_CLIENT_ID={GITHUB_OAUTH_CLIENT_ID}");
    println!("export GITHUB_OAUTH_CLIENT_SECRET={GITHUB_OAUTH_CLIENT_SECRET}");
    println!("export X_WEB_URL={}", x.url);
    println!("export X_OAUTH_CLIENT_ID={X_OAUTH_CLIENT_ID}");
    println!("export X_OAUTH_CLIENT_SECRET={X_OAUTH_CLIENT_SECRET}");
    println!("# serving until Ctrl-C");
    if tokio::signal::ctrl_c().await.is_ok() {
        served(&github, &x, &bluesky);
    }
}

fn usage() {
    println!(
        "connected-fake-upstreams [--team N (20)] [--latency MILLISECONDS (0)] \
         [--hostile-orgs huge|many|nul|control] [--approve-as DEVELOPER (dev000)]"
    );
}

fn served(github: &Fake, x: &Fake, bluesky: &Fake) {
    println!(
        "# calls served: GitHub {}, X {} ({} users read from follow lists), Bluesky {}",
        github.call_count(),
        x.call_count(),
        x.users_read(),
        bluesky.call_count()
    );
}
