//! The scenarios, each on fresh fakes and a fresh service, each giving its rows of the report.

use crate::measure::{Hammered, Timing, hammer};
use crate::report::{Row, answers, verdict};
use crate::stage::{Access, Bench, Service, Upstreams};
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
    let service = bench.serve(&upstreams, Access::Open).await;

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
    let service = bench.serve(&upstreams, Access::Open).await;
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
    let service = bench.serve(&upstreams, Access::Open).await;
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
    let service = bench.serve(&upstreams, Access::Open).await;
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

/// A key's rate that a load on one machine never reaches: the most `connected keys create`
/// accepts (its `Rate::MAX_REQUESTS`) in the shortest period. Every request is counted against
/// it, none refused.
const UNREACHED_RATE: &str = "100000/s";

/// 6. Load: warm realtime and the register, 50 connections, and the memory it took.
///
/// Then warm realtime again on a service requiring keys: what authentication costs.
pub async fn under_load(bench: &Bench) -> Vec<Row> {
    let (upstreams, service) = warm(bench, Access::Open).await;
    let (open, calls) = realtime(bench, &upstreams, &service).await;
    let meets = open.rate >= 10_000.0;
    let realtime_row = Row::new(
        format!(
            "6a. realtime, warm cache ({}, each answer recorded)",
            open.tool
        ),
        calls,
        0,
        open.timing,
        format!(
            "≥ 10,000 requests/s: {}; {}",
            verdict(meets),
            answers(open.failed)
        ),
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
    drop((service, upstreams));
    let keyed = authenticated(bench, open.rate).await;
    vec![realtime_row, register, memory, keyed]
}

/// 6d. Scenario 6a on a service requiring keys (`AUTH=keys`), every request with a valid key
/// whose rate is counted on each and never refuses: against 6a's `open_rate`.
async fn authenticated(bench: &Bench, open_rate: f64) -> Row {
    let access = Access::Key {
        rate: UNREACHED_RATE,
    };
    let (upstreams, service) = warm(bench, access).await;
    let (keyed, calls) = realtime(bench, &upstreams, &service).await;
    let ratio = keyed.rate / open_rate;
    Row::new(
        format!(
            "6d. realtime, warm, AUTH=keys with a key of {UNREACHED_RATE} (rate limit counted; {})",
            keyed.tool
        ),
        calls,
        0,
        keyed.timing,
        format!(
            "≥ 0.90 of 6a's requests/s: {ratio:.2} ({}); {}",
            verdict(ratio >= 0.9 && keyed.failed == 0),
            answers(keyed.failed)
        ),
    )
}

/// Fresh fakes and a service on scenario 6's graph, its cache warm for ivy and jon, and 20
/// entries in the register of kim and lou.
async fn warm(bench: &Bench, access: Access) -> (Upstreams, Service) {
    let graph = Graph::new()
        .dev("ivy", &["acme"], &["jon"])
        .dev("jon", &["acme"], &["ivy"])
        .dev("kim", &["acme"], &["lou"])
        .dev("lou", &["acme"], &["kim"]);
    let upstreams = Upstreams::new(graph).await;
    let service = bench.serve(&upstreams, access).await;
    for _ in 0..20 {
        bench.check(&service, "kim", "lou").await;
    }
    bench
        .expect(&service, ("ivy", "jon"), 200, "ivy and jon are connected")
        .await;
    (upstreams, service)
}

/// Warm realtime checks of ivy and jon under load: the figures, and the upstream calls made.
async fn realtime(bench: &Bench, upstreams: &Upstreams, service: &Service) -> (Hammered, usize) {
    let before = upstreams.spent();
    let url = service.url("/connected/realtime/ivy/jon");
    let hammered = hammer(&url, service.headers(), bench.options.duration).await;
    (hammered, upstreams.spent().since(before).calls)
}

/// 6b. The register of a pair with 20 entries, against /healthz in the same run, which gives
/// its figure a scale that does not depend on how busy the machine is.
async fn register(bench: &Bench, service: &Service) -> Row {
    let duration = bench.options.duration;
    let headers = service.headers();
    let healthz = hammer(&service.url("/healthz"), headers, duration).await;
    let url = service.url("/connected/register/kim/lou");
    let register = hammer(&url, headers, duration).await;
    let ratio = register.rate / healthz.rate;
    Row::new(
        format!("6b. register, 20 entries ({})", register.tool),
        0,
        0,
        register.timing,
        format!(
            "≥ a third of /healthz ({:.0} requests/s in the same run): {ratio:.2} ({}); {}",
            healthz.rate,
            verdict(ratio >= 1.0 / 3.0),
            answers(register.failed + healthz.failed)
        ),
    )
}
