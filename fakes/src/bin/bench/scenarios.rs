//! The scenarios, each on fresh fakes and a fresh service, each giving its rows of the report.

use crate::measure::{Timing, hammer};
use crate::report::{Row, verdict};
use crate::stage::{Bench, Service, Upstreams};
use connected_fakes::Graph;
use std::time::Duration;

/// 1. Cold checks, small lists; 2. the same check again within the time to live.
pub async fn cold_then_cached(bench: &Bench) -> Vec<Row> {
    let graph = Graph::new()
        .dev("ann", &["acme"], &["ben"])
        .dev("ben", &["acme"], &["ann"])
        .dev("cat", &["acme"], &["dan"])
        .dev("dan", &["other"], &["cat"]);
    let upstreams = Upstreams::new(graph).await;
    let service = bench.serve(&upstreams).await;

    let connected = ("ann", "ben");
    let took = bench
        .expect(&service, connected, 200, "ann and ben are connected")
        .await;
    let spent = upstreams.spent();
    let cold = Row::new(
        "1a. one cold connected check",
        spent.calls,
        spent.users_read,
        Timing::once(took),
        format!("≤ 5 calls: {}", verdict(spent.calls <= 5)),
    );

    let before = upstreams.spent();
    let why = "cat and dan share no organisation";
    let took = bench.expect(&service, ("cat", "dan"), 404, why).await;
    let spent = upstreams.spent().since(before);
    let no_organisation = Row::new(
        "1b. one cold not-connected check (no shared organisation)",
        spent.calls,
        spent.users_read,
        Timing::once(took),
        "—",
    );

    let before = upstreams.spent();
    let load = bench.load(&service, connected, 1000, 1).await;
    let repeated = upstreams.spent().since(before).calls;
    let cached = Row::new(
        "2. the same check 1,000 times within the TTL, one at a time",
        repeated,
        0,
        Timing::of(&load),
        format!("0 calls: {}", verdict(repeated == 0)),
    );
    vec![cold, no_organisation, cached]
}

/// 3. Fifty identical cold checks at once (upstreams answering in 20 ms, so they overlap).
pub async fn identical_at_once(bench: &Bench) -> Row {
    let graph = Graph::new()
        .dev("eve", &["acme"], &["fay"])
        .dev("fay", &["acme"], &["eve"]);
    let upstreams = Upstreams::new(graph).await;
    upstreams.set_latency(Duration::from_millis(20));
    let service = bench.serve(&upstreams).await;
    let load = bench.load(&service, ("eve", "fay"), 50, 50).await;
    let spent = upstreams.spent();
    Row::new(
        "3. 50 identical cold checks at once (20 ms upstreams)",
        spent.calls,
        spent.users_read,
        Timing::of(&load),
        format!("≤ 5 calls in all: {}", verdict(spent.calls <= 5)),
    )
}

/// 4. A user following 5,000 accounts against one followed by few.
pub async fn cheapest_lists(bench: &Bench) -> Row {
    let graph = Graph::new()
        .dev("whale", &["acme"], &[])
        .dev("minnow", &["acme"], &["whale"])
        .pad_following("whale", 5000)
        .x("whale", &["minnow"]);
    let upstreams = Upstreams::new(graph).await;
    let service = bench.serve(&upstreams).await;
    let why = "whale and minnow are connected";
    let took = bench.expect(&service, ("whale", "minnow"), 200, why).await;
    let spent = upstreams.spent();
    Row::new(
        "4. following 5,000 vs followed by 1: the cheapest lists",
        spent.calls,
        spent.users_read,
        Timing::once(took),
        format!(
            "reading whale's list would cost 5,001 users; read {}",
            spent.users_read
        ),
    )
}

/// 5. Cold check latency with 50 ms per upstream call.
pub async fn round_trips(bench: &Bench) -> Row {
    let graph = Graph::new()
        .dev("gil", &["acme"], &["hal"])
        .dev("hal", &["acme"], &["gil"]);
    let upstreams = Upstreams::new(graph).await;
    let service = bench.serve(&upstreams).await;
    upstreams.set_latency(Duration::from_millis(50));
    let why = "gil and hal are connected";
    let took = bench.expect(&service, ("gil", "hal"), 200, why).await;
    let trips = took.as_secs_f64() / 0.050;
    let spent = upstreams.spent();
    Row::new(
        "5. one cold connected check, 50 ms per upstream call",
        spent.calls,
        spent.users_read,
        Timing::once(took),
        format!("≤ 3 round trips: {trips:.1} ({})", verdict(trips < 4.0)),
    )
}

/// 6. Load: warm realtime and the register, 50 connections, and the memory it took.
pub async fn under_load(bench: &Bench) -> Vec<Row> {
    let graph = Graph::new()
        .dev("ivy", &["acme"], &["jon"])
        .dev("jon", &["acme"], &["ivy"])
        .dev("kim", &["acme"], &["lou"])
        .dev("lou", &["acme"], &["kim"]);
    let upstreams = Upstreams::new(graph).await;
    let service = bench.serve(&upstreams).await;
    for _ in 0..20 {
        bench.check(&service, "kim", "lou").await;
    }
    bench.check(&service, "ivy", "jon").await;

    let before = upstreams.spent();
    let url = service.url("/connected/realtime/ivy/jon");
    let (timing, tool) = hammer(&url, bench.options.duration).await;
    let meets = timing.rate.parse::<f64>().is_ok_and(|r| r >= 10_000.0);
    let realtime = Row::new(
        format!("6a. realtime, warm cache ({tool}, each answer recorded)"),
        upstreams.spent().since(before).calls,
        0,
        timing,
        format!("≥ 10,000 requests/s: {}", verdict(meets)),
    );
    let register = register(bench, &service).await;
    let peak = service.peak_memory_mb().unwrap_or(f64::NAN);
    let memory = Row::new(
        "6c. the service's peak resident memory over 6a and 6b",
        "—",
        "—",
        Timing::none(),
        format!("{peak:.1} MB, ≤ 50 MB: {}", verdict(peak <= 50.0)),
    );
    vec![realtime, register, memory]
}

/// 6b. The register of a pair with 20 entries, against /healthz in the same run, which gives
/// its figure a scale that does not depend on how busy the machine is.
async fn register(bench: &Bench, service: &Service) -> Row {
    let duration = bench.options.duration;
    let (healthz, _) = hammer(&service.url("/healthz"), duration).await;
    let url = service.url("/connected/register/kim/lou");
    let (timing, tool) = hammer(&url, duration).await;
    let healthz = healthz.rate;
    let ratio =
        timing.rate.parse::<f64>().unwrap_or(0.0) / healthz.parse::<f64>().unwrap_or(f64::NAN);
    Row::new(
        format!("6b. register, 20 entries ({tool})"),
        0,
        0,
        timing,
        format!(
            "≥ a third of /healthz ({healthz} requests/s in the same run): {ratio:.2} ({})",
            verdict(ratio >= 1.0 / 3.0)
        ),
    )
}
