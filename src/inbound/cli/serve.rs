//! `connected serve`: the REST API, started with one line that says where it listens and
//! what it is wired to.

use super::VERSION;
use super::dotenv::DotEnv;
use crate::config::Config;
use crate::domain::Network;
use crate::secret::redact_url;
use crate::startup::{self, Application};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;

pub(super) async fn serve(config: Config, dotenv: &DotEnv) -> ExitCode {
    let app = match Application::build(&config).await {
        Ok(app) => app,
        Err(e) => return super::cannot_start(&e),
    };
    let line = StartUp::of(&config, &app, dotenv);
    tracing::info!(
        address = %line.address,
        url = %url_to_open(line.address),
        version = VERSION,
        api_keys = config.keys().1,
        database = %line.database,
        redis = %line.redis,
        upstreams = line.upstreams,
        env_file = line.env_file,
        "listening"
    );
    match app.run_until_stopped(startup::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the server stopped: {e}");
            ExitCode::from(3)
        }
    }
}

/// What the start-up line says, each credential of a URL hidden.
struct StartUp {
    address: SocketAddr,
    database: String,
    redis: String,
    upstreams: String,
    env_file: String,
}

impl StartUp {
    fn of(config: &Config, app: &Application, dotenv: &DotEnv) -> Self {
        Self {
            address: app.local_addr(),
            database: redact_url(config.database.url.as_str()),
            redis: redis(config),
            upstreams: upstreams(config),
            env_file: dotenv.said(),
        }
    }
}

/// The URL a person on this host opens: the address bound, or loopback's when it listens on
/// every address (`0.0.0.0`, `::`), which a browser cannot open.
fn url_to_open(address: SocketAddr) -> String {
    let host = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/", SocketAddr::new(host, address.port()))
}

/// Redis's URL, its credentials hidden, or `none`.
fn redis(config: &Config) -> String {
    config
        .redis
        .url
        .as_ref()
        .map_or_else(|| "none".to_owned(), |url| redact_url(url.expose()))
}

/// Where the answers come from, in words: the APIs' origins, or the demo graph.
fn upstreams(config: &Config) -> String {
    let upstreams = &config.upstreams;
    let origin = |url: &url::Url| redact_url(url.as_str());
    let github = format!("GitHub {}", origin(&upstreams.github.api_url));
    match (&upstreams.demo, upstreams.social_graph) {
        (Some(None), _) => "the bundled demo graph".to_owned(),
        (Some(Some(file)), _) => format!("the demo graph {}", file.display()),
        (None, Network::GitHub) => format!("{github}, its follows the social graph"),
        (None, Network::X) => format!("{github} and X {}", origin(&upstreams.x.api_url)),
        (None, Network::Bluesky) => {
            format!(
                "{github} and Bluesky {}",
                origin(&upstreams.bluesky.api_url)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn the_line_hides_redis_credentials_and_names_the_upstreams() {
        let mut config = Config::default();
        assert_eq!(redis(&config), "none");
        config.redis.url = Some(Secret::new("redis://:hunter2@cache:6379/0"));
        assert_eq!(redis(&config), "redis://:redacted@cache:6379/0");
        assert_eq!(
            upstreams(&config),
            "GitHub https://api.github.com/ and X https://api.x.com/"
        );
        config.upstreams.demo = Some(None);
        assert_eq!(upstreams(&config), "the bundled demo graph");
    }

    #[test]
    fn the_url_to_open_is_loopback_when_listening_on_every_address() {
        let url = |address: &str| url_to_open(address.parse().unwrap());
        assert_eq!(url("127.0.0.1:5000"), "http://127.0.0.1:5000/");
        assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080/");
        assert_eq!(url("[::]:5000"), "http://[::1]:5000/");
        assert_eq!(url("192.168.1.20:5000"), "http://192.168.1.20:5000/");
    }
}
