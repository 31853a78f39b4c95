use super::*;
use crate::domain::Network;
use crate::secret::{Secret, SecretUrl};
use std::time::Duration;

#[test]
fn debug_output_hides_every_secret() {
    let mut config = Config::default();
    config.database.url =
        SecretUrl::new("postgres://app:pg-password@db/connected?sslpassword=key-password".into());
    config.upstreams.github.token = Some(Secret::new("ghp_abcdef"));
    config.upstreams.github.api_url = SecretUrl::new(
        "https://proxy-user:proxy-password@proxy/github"
            .parse()
            .unwrap(),
    );
    config.upstreams.x.bearer_token = Some(Secret::new("AAAAbearer"));
    config.upstreams.x.api_url =
        SecretUrl::new("https://proxy/x?api_key=proxy-key".parse().unwrap());
    config.upstreams.bluesky.api_url =
        SecretUrl::new("https://bsky-token@proxy/bluesky".parse().unwrap());
    config.redis.url = Some(Secret::new("redis://:redis-password@cache:6379"));
    let shown = format!("{config:?}");
    for secret in [
        "ghp_abcdef",
        "AAAAbearer",
        "pg-password",
        "key-password",
        "redis-password",
        "proxy-password",
        "proxy-key",
        "bsky-token",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(
        shown.contains("postgres://app:redacted@db/connected"),
        "{shown}"
    );
}

#[test]
fn the_defaults_are_those_the_documentation_gives() {
    let config = Config::default();
    assert_eq!(config.http.listen_addr.to_string(), DEFAULT_LISTEN_ADDR);
    assert_eq!(config.upstreams.request_timeout, Duration::from_secs(60));
    assert_eq!(config.http.idle_timeout, Duration::from_secs(75));
    assert_eq!(config.http.max_connections, 10_000);
    assert_eq!(config.auth.mode, AuthMode::Auto);
    assert!(config.auth.allowed_hosts.is_empty());
    assert_eq!(config.database.url.as_str(), "sqlite://connected.db");
    assert!((4..=64).contains(&config.database.pool.max_connections));
    assert_eq!(config.database.pool.connect_timeout, Duration::from_secs(5));
    assert_eq!(config.retention.register, None);
    assert_eq!(config.upstreams.demo, None);
    assert_eq!(config.upstreams.social_graph, Network::X);
    assert_eq!(
        config.upstreams.github.api_url.as_str(),
        "https://api.github.com/"
    );
    assert_eq!(config.upstreams.github.token, None);
    assert_eq!(config.upstreams.x.bearer_token, None);
    assert_eq!(config.upstreams.bluesky.handle_suffix, ".bsky.social");
    assert_eq!(config.cache.ttl, Duration::from_secs(600));
    assert_eq!(config.cache.ttl_not_found, Duration::from_secs(60));
    assert_eq!(
        config.budgets,
        ServiceBudgets {
            x_users_per_day: None,
            github_calls_per_hour: None
        }
    );
    assert_eq!(config.redis.url, None);
    assert_eq!(config.redis.prefix, "connected:");
    assert_eq!(config.log.format, LogFormat::Text);
    assert_eq!(config.page.quote_confirm_x_users, 1000);
}

#[test]
fn keys_are_required_off_loopback_unless_told_otherwise() {
    let on = |addr: &str, auth: AuthMode, demo: bool| {
        let mut config = Config::default();
        config.http.listen_addr = addr.parse().unwrap();
        config.auth.mode = auth;
        config.upstreams.demo = demo.then_some(None);
        config.keys().0
    };
    for local in [
        "127.0.0.1:5000",
        "127.9.9.9:5000",
        "[::1]:5000",
        "[::ffff:127.0.0.1]:5000",
    ] {
        assert_eq!(
            on(local, AuthMode::Auto, false),
            Keys::ThroughProxies,
            "{local}"
        );
        assert_eq!(
            on(local, AuthMode::Auto, true),
            Keys::ThroughProxies,
            "{local}"
        );
    }
    for public in ["0.0.0.0:5000", "[::]:5000", "192.168.1.2:5000"] {
        assert_eq!(
            on(public, AuthMode::Auto, false),
            Keys::Required,
            "{public}"
        );
    }
    assert_eq!(on("0.0.0.0:5000", AuthMode::Auto, true), Keys::Off);
    assert_eq!(on("127.0.0.1:5000", AuthMode::Keys, true), Keys::Required);
    assert_eq!(on("0.0.0.0:5000", AuthMode::Open, false), Keys::Off);
    assert_eq!(on("127.0.0.1:5000", AuthMode::Open, false), Keys::Off);
}

#[test]
fn the_start_up_line_says_why_keys_are_needed_or_not() {
    let why = |addr: &str, auth: AuthMode| {
        let mut config = Config::default();
        config.http.listen_addr = addr.parse().unwrap();
        config.auth.mode = auth;
        config.keys().1
    };
    assert_eq!(
        why("127.0.0.1:5000", AuthMode::Auto),
        "not required (listening on loopback; requests through a proxy need one)"
    );
    assert_eq!(
        why("0.0.0.0:5000", AuthMode::Auto),
        "required (not listening on loopback)"
    );
    assert_eq!(
        why("0.0.0.0:5000", AuthMode::Open),
        "not required (AUTH=open)"
    );
}
