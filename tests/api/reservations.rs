//! What a read reserves of the X budget, and what it leaves spent: a team under a small
//! budget is answered and billed what X returned, and requests abandoned by their clients
//! leave the budget where X's bill is.

use crate::fake::Graph;
use crate::keys::{Stage, get};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

const BUDGET: &str = "x_users_per_day";

/// `teams` teams of ten, everyone in one organisation with their team, following the one
/// before and the one after: every follow list holds two users.
fn teams(teams: usize) -> (Graph, Vec<Vec<String>>) {
    let mut graph = Graph::new();
    let mut all = Vec::new();
    for t in 0..teams {
        let names: Vec<String> = (0..10).map(|i| format!("t{t}dev{i}")).collect();
        for (i, name) in names.iter().enumerate() {
            let follows = [&names[(i + 9) % 10], &names[(i + 1) % 10]];
            let follows: Vec<&str> = follows.iter().map(|s| s.as_str()).collect();
            graph = graph.dev(name, &[&format!("org{t}")], &follows);
        }
        all.push(names);
    }
    (graph, all)
}

/// A gauge of the service's X budget from `/metrics` (0 when it is not shown).
pub async fn budget_gauge(base: &str, key: Option<&str>, gauge: &str) -> u64 {
    let text = get(&format!("{base}/metrics"), key, &[])
        .await
        .text()
        .await
        .unwrap();
    let line = format!("connected_budget_{gauge}{{budget=\"{BUDGET}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&line))
        .map_or(0, |n| n.parse().unwrap())
}

/// X users billed to the key today, as `keys list` says once written (every two seconds).
fn key_bill(stage: &Stage) -> u64 {
    let listed: serde_json::Value = serde_json::from_str(&stage.keys(&["list", "--json"])).unwrap();
    listed[0]["today"]["x_users"].as_u64().unwrap()
}

/// Waits (at most half a minute) until `done` holds.
async fn until(mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done().await && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn post_team(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    team: &[String],
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{base}/connected/network"))
        .bearer_auth(key)
        .json(&serde_json::json!({ "developers": team }))
        .send()
        .await
}

#[tokio::test]
async fn a_team_under_a_small_budget_is_answered_and_billed_what_x_returned() {
    let (graph, teams) = teams(1);
    let stage = Stage::with(graph).await;
    let service = stage
        .service()
        .env("AUTH", "keys")
        .env("BUDGET_X_USERS_PER_DAY", "1500")
        .start()
        .await;
    let key = stage.keys(&["create", "team", "--scopes", "network,check,fresh,metrics"]);
    let client = reqwest::Client::new();
    let answer = post_team(&client, &service.base, &key, &teams[0])
        .await
        .unwrap();
    let status = answer.status();
    let body = answer.text().await.unwrap();
    let returned = stage.x.users_billed();
    // The gauges follow the counters as each call settles, and are read again from them
    // every two seconds: wait for them (they must get there) rather than race them.
    let gauge = async |name| budget_gauge(&service.base, Some(&key), name).await;
    until(async || gauge("spent").await == returned && gauge("reserved").await == 0).await;
    let (spent, reserved) = (gauge("spent").await, gauge("reserved").await);
    eprintln!(
        "a team of 10 under 1,500 X users a day: {status}, X returned {returned}, the budget spent {spent}"
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(returned, 10 + 10 * 2, "ten looked up, ten lists of two");
    assert_eq!(spent, returned, "the budget spent what X returned");
    assert_eq!(reserved, 0, "nothing is held once answered");
    until(async || key_bill(&stage) >= returned).await;
    assert_eq!(
        key_bill(&stage),
        returned,
        "the key is billed what X returned"
    );
    // The budget has plenty left: a later check that reads X again is answered.
    let url = format!(
        "{}/connected/realtime/{}/{}",
        service.base, teams[0][0], teams[0][1]
    );
    let later = get(&url, Some(&key), &[("cache-control", "no-cache")]).await;
    assert_eq!(later.status(), StatusCode::OK);
}

#[tokio::test]
async fn abandoned_requests_leave_the_budget_where_xs_bill_is() {
    let (graph, teams) = teams(10);
    let stage = Stage::with(graph).await;
    // Slow enough that each request is abandoned in the middle of its follow lists; and X
    // serves (and bills) a page it received, whether or not its answer is read.
    stage.x.set_latency(Duration::from_millis(150));
    stage.x.serve_abandoned(true);
    stage.github.set_latency(Duration::from_millis(50));
    let service = stage
        .service()
        .env("AUTH", "keys")
        .env("BUDGET_X_USERS_PER_DAY", "100000")
        .start()
        .await;
    let key = stage.keys(&["create", "team", "--scopes", "network,metrics"]);
    let hasty = reqwest::Client::builder()
        .timeout(Duration::from_millis(450))
        .build()
        .unwrap();
    for team in &teams {
        if let Ok(answered) = post_team(&hasty, &service.base, &key, team).await {
            panic!("answered {} before it was abandoned", answered.status());
        }
    }
    // Every reservation of the abandoned requests ends once the service sees them gone.
    until(async || budget_gauge(&service.base, Some(&key), "reserved").await == 0).await;
    // The key's bill is written, and the gauge read again from its counter, every two
    // seconds: both are waited for until they agree (they never do if the key was billed
    // less or more than the budget spent).
    let spent = async || budget_gauge(&service.base, Some(&key), "spent").await;
    until(async || key_bill(&stage) == spent().await).await;
    let (spent, billed) = (spent().await, key_bill(&stage));
    // The fake X serves an abandoned page to its end, after its latency: what it returned is
    // read once the pages it was sent have been served.
    until(async || stage.x.users_billed() >= spent).await;
    let returned = stage.x.users_billed();
    eprintln!(
        "10 teams abandoned after 0.45 s: X returned {returned} users, the budget spent {spent}, the key was billed {billed}"
    );
    // A page in flight is kept as spent, and X bills it: within 1 % and a page (of two
    // users here).
    let bound = returned + returned / 100 + 2;
    assert!(
        returned > 0,
        "X was read before the requests were abandoned"
    );
    assert!(spent <= bound, "spent {spent} for {returned} returned");
    assert!(spent >= returned, "spent {spent} for {returned} returned");
    assert_eq!(billed, spent, "the key is billed what the budget spent");
}
