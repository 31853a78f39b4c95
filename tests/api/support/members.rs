//! The application with member sign-in on, against the fakes' OAuth apps, and a browser of
//! sorts: a client that follows no redirect and keeps its cookies, so that every step of a
//! sign-in is seen.

use super::app::{TestApp, try_spawn_app_with};
use crate::fake::{
    GITHUB_OAUTH_CLIENT_ID, GITHUB_OAUTH_CLIENT_SECRET, Graph, X_OAUTH_CLIENT_ID,
    X_OAUTH_CLIENT_SECRET,
};
use connected::config::Config;
use connected::secret::{Secret, SecretUrl};
use connected::startup::StartupError;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use std::collections::BTreeMap;

/// The key members' tokens are encrypted with in tests: 32 bytes, base64.
pub const TOKEN_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// The app on a port chosen first, so that its public URL is known, with sign-in on at both
/// fakes. The port is free when chosen but may be taken before the app binds it (by another
/// test's fake): then another is chosen.
pub async fn spawn_member_app(graph: Graph) -> TestApp {
    for _ in 0..20 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        match try_spawn_app_with(graph.clone(), |config| sign_in_on(config, port)).await {
            Ok(app) => return app,
            Err(StartupError::Listen { cause, .. })
                if cause.kind() == std::io::ErrorKind::AddrInUse => {}
            Err(e) => panic!("the app starts: {e:?}"),
        }
    }
    panic!("no free port for the app in 20 tries")
}

/// Sign-in on at both fakes, for the app on `port`.
fn sign_in_on(config: &mut Config, port: u16) {
    config.http.listen_addr = format!("127.0.0.1:{port}").parse().unwrap();
    let members = &mut config.members;
    members.public_url = Some(format!("http://127.0.0.1:{port}").parse().unwrap());
    members.token_key = Some(Secret::new(TOKEN_KEY));
    members.github_client_id = Some(GITHUB_OAUTH_CLIENT_ID.to_owned());
    members.github_client_secret = Some(Secret::new(GITHUB_OAUTH_CLIENT_SECRET));
    members.x_client_id = Some(X_OAUTH_CLIENT_ID.to_owned());
    members.x_client_secret = Some(Secret::new(X_OAUTH_CLIENT_SECRET));
    // The fakes serve the web pages and the API on one origin each.
    members.github_web_url =
        SecretUrl::new(config.upstreams.github.api_url.as_str().parse().unwrap());
    members.x_web_url = SecretUrl::new(config.upstreams.x.api_url.as_str().parse().unwrap());
}

/// A browser: its cookies by name, and a client that follows no redirect.
pub struct Browser {
    pub cookies: BTreeMap<String, String>,
    client: reqwest::Client,
}

/// One answer as a browser sees it.
pub struct Seen {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub text: String,
}

impl Seen {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

impl Default for Browser {
    fn default() -> Self {
        Self {
            cookies: BTreeMap::new(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }
}

impl Browser {
    /// `method url` with this browser's cookies (all of them: the paths are not told
    /// apart), keeping what it is told to keep.
    pub async fn send(
        &mut self,
        method: reqwest::Method,
        url: &str,
        json: Option<serde_json::Value>,
    ) -> Seen {
        let mut request = self.client.request(method, url);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header(COOKIE, jar.join("; "));
        }
        if let Some(json) = json {
            request = request.json(&json);
        }
        let response = request.send().await.expect("it answers");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let set_cookies: Vec<String> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for set in &set_cookies {
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let text = response.text().await.unwrap();
        Seen {
            status,
            location,
            set_cookies,
            text,
        }
    }

    pub async fn get(&mut self, url: &str) -> Seen {
        self.send(reqwest::Method::GET, url, None).await
    }

    /// Signs in at `network` (`github` or `x`) on `app`, the provider approving as
    /// whoever its fake is told to: each redirect followed, the callback's answer returned.
    pub async fn sign_in(&mut self, app: &TestApp, network: &str) -> Seen {
        let begun = self
            .get(&format!("{}/members/connect/{network}", app.address))
            .await;
        assert_eq!(begun.status, 302, "{}", begun.text);
        let approved = self.get(begun.location.as_deref().unwrap()).await;
        assert_eq!(approved.status, 302, "{}", approved.text);
        self.get(approved.location.as_deref().unwrap()).await
    }

    /// The member this browser is signed in as, as `/members/me` says.
    pub async fn me(&mut self, app: &TestApp) -> serde_json::Value {
        let seen = self.get(&format!("{}/members/me", app.address)).await;
        assert_eq!(seen.status, 200, "{}", seen.text);
        seen.json()
    }
}
