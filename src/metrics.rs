//! What the service counts, exposed at `/metrics` in the Prometheus (OpenMetrics) text format:
//! requests by route and status with latency histograms, upstream calls by network, endpoint
//! and outcome, cache lookups, and X users read (what X bills). One registry per app, no
//! global state, so tests and several apps in one process do not mix their numbers.

use axum::http::Method;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: &'static str,
    pub status: u16,
}

/// The label a request's method is counted under: the methods HTTP defines by name, and
/// `other` for anything else. A method is any token the client cares to send (hyper accepts
/// hundreds of kilobytes of one), so taking it as sent would let clients add series, and
/// memory, for ever.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

/// How one upstream call ended.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    NotFound,
    NotModified,
    RateLimited,
    Error,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotFound => "not_found",
            Outcome::NotModified => "304",
            Outcome::RateLimited => "rate_limited",
            Outcome::Error => "error",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamLabels {
    pub network: &'static str,
    pub endpoint: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    pub cache: &'static str,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BudgetLabels {
    pub budget: String,
}

/// The app's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_duration: Family<RouteLabels, Histogram>,
    upstream_calls: Family<UpstreamLabels, Counter>,
    cache_lookups: Family<CacheLabels, Counter>,
    x_users_read: Counter,
    budget_spent: Family<BudgetLabels, Gauge>,
    budget_remaining: Family<BudgetLabels, Gauge>,
    budget_reserved: Family<BudgetLabels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Metrics registered as they are made: each is returned to be kept, and a clone of it goes
/// into the registry.
struct Registered<'a>(&'a mut Registry);

impl Registered<'_> {
    /// A metric of its default value, registered under `name` with `help`.
    fn metric<M>(&mut self, name: &str, help: &str) -> M
    where
        M: prometheus_client::registry::Metric + Clone + Default,
    {
        self.metric_with(name, help, M::default())
    }

    /// `metric`, registered under `name` with `help`.
    fn metric_with<M>(&mut self, name: &str, help: &str, metric: M) -> M
    where
        M: prometheus_client::registry::Metric + Clone,
    {
        self.0.register(name, help, metric.clone());
        metric
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("connected");
        let mut add = Registered(&mut registry);
        let requests = add.metric(
            "http_requests",
            "HTTP requests answered, by route, method and status",
        );
        // 0.5 ms to about 16 s.
        let request_duration = add.metric_with(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            Family::<RouteLabels, Histogram>::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0005, 2.0, 16))
            }),
        );
        let upstream_calls = add.metric(
            "upstream_calls",
            "Calls made to GitHub and X, by network, endpoint and outcome (ok, not_found, 304, rate_limited, error)",
        );
        let cache_lookups = add.metric(
            "cache_lookups",
            "Lookups of cached upstream facts, by cache and result (hit, shared_hit, miss)",
        );
        let x_users_read = add.metric(
            "x_users_read",
            "Users returned by X follow lists: the unit X bills",
        );
        let budget_spent = add.metric(
            "budget_spent",
            "What the service's spend budgets (BUDGET_*) have spent in their current window, all instances sharing Redis together: calls answered, and calls whose answer is unknown; what this instance holds reserved for calls under way is not included",
        );
        let budget_remaining = add.metric(
            "budget_remaining",
            "What is left of the service's spend budgets in their current window, what is reserved for calls under way not included",
        );
        let budget_reserved = add.metric(
            "budget_reserved",
            "What this instance holds reserved of the service's spend budgets for upstream calls under way: given back, or spent, as each answer is counted",
        );
        Self {
            registry,
            requests,
            request_duration,
            upstream_calls,
            cache_lookups,
            x_users_read,
            budget_spent,
            budget_remaining,
            budget_reserved,
        }
    }

    /// Counts one answered request. The method is labelled by [`method_label`].
    pub fn request(&self, route: &str, method: &Method, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method_label(method),
                status,
            })
            .inc();
        self.request_duration
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    pub fn upstream(&self, network: &'static str, endpoint: &'static str, outcome: Outcome) {
        self.upstream_calls
            .get_or_create(&UpstreamLabels {
                network,
                endpoint,
                outcome: outcome.label(),
            })
            .inc();
    }

    pub fn cache(&self, cache: &'static str, result: &'static str) {
        self.cache_lookups
            .get_or_create(&CacheLabels { cache, result })
            .inc();
    }

    pub fn x_users_read(&self, n: u64) {
        self.x_users_read.inc_by(n);
    }

    /// Where a service budget of `limit` stands: its counter holds `counted` in its window,
    /// of which this instance holds `reserved` for calls under way.
    pub fn budget(&self, budget: &str, limit: u64, counted: u64, reserved: u64) {
        let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let labels = BudgetLabels {
            budget: budget.to_owned(),
        };
        self.budget_spent
            .get_or_create(&labels)
            .set(gauge(counted.saturating_sub(reserved)));
        self.budget_remaining
            .get_or_create(&labels)
            .set(gauge(limit.saturating_sub(counted)));
        self.budget_reserved
            .get_or_create(&labels)
            .set(gauge(reserved));
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_in_the_exposition() {
        let metrics = Metrics::new();
        metrics.upstream("github", "orgs", Outcome::NotModified);
        metrics.x_users_read(7);
        metrics.cache("github_orgs", "hit");
        metrics.request("/healthz", &Method::GET, 200, Duration::from_millis(3));
        let text = metrics.encode();
        assert!(text.contains(r#"connected_upstream_calls_total{network="github",endpoint="orgs",outcome="304"} 1"#), "{text}");
        assert!(text.contains("connected_x_users_read_total 7"), "{text}");
        assert!(
            text.contains(r#"connected_cache_lookups_total{cache="github_orgs",result="hit"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"connected_http_request_duration_seconds_count{route="/healthz"} 1"#),
            "{text}"
        );
    }

    #[test]
    fn invented_methods_share_one_label() {
        let metrics = Metrics::new();
        for name in ["FOO1", "FOO2", "get", "PROPFIND"] {
            let method = Method::from_bytes(name.as_bytes()).unwrap();
            metrics.request("unmatched", &method, 405, Duration::ZERO);
        }
        metrics.request("unmatched", &Method::DELETE, 405, Duration::ZERO);
        let text = metrics.encode();
        assert!(
            text.contains(
                r#"connected_http_requests_total{route="unmatched",method="other",status="405"} 4"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"connected_http_requests_total{route="unmatched",method="DELETE",status="405"} 1"#
            ),
            "{text}"
        );
        assert!(!text.contains("FOO"), "{text}");
    }
}
