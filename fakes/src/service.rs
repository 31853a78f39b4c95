//! `connected serve` started as its users start it, for the benchmark and the black-box tests:
//! on port 0, so that the system picks a free port and nothing else can take it in between,
//! with the address it bound read from its log, and handed over once `/readyz` answers 200.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, ChildStderr, Command};
use tokio::sync::oneshot;

/// How long the service may take to say where it listens, and then to be ready.
const START_WAIT: Duration = Duration::from_secs(30);
/// How often `/readyz` is asked.
const READY_POLL: Duration = Duration::from_millis(25);
/// The log target of the line that gives the bound address, let through whatever the level.
const LISTENING_TARGET: &str = "connected::inbound::cli";
/// The most of its log kept for [`Service::log`].
const LOG_KEPT: usize = 8 << 20;

/// How to start one `connected serve`: the binary, its arguments, folder and environment,
/// nothing inherited from the caller's environment.
#[must_use]
pub struct ServiceCommand {
    binary: PathBuf,
    args: Vec<String>,
    dir: PathBuf,
    env: Vec<(String, String)>,
    log_level: String,
    show_log: bool,
    listen_addr: String,
}

impl ServiceCommand {
    /// `binary serve --listen-addr 127.0.0.1:0`, run in the temporary folder, logging errors.
    pub fn new(binary: impl AsRef<Path>) -> Self {
        Self {
            binary: binary.as_ref().to_owned(),
            args: Vec::new(),
            dir: std::env::temp_dir(),
            env: Vec::new(),
            log_level: "error".to_owned(),
            show_log: false,
            listen_addr: "127.0.0.1:0".to_owned(),
        }
    }

    /// Where it listens instead of `127.0.0.1:0` (`0.0.0.0:0`, say); it is asked on loopback.
    pub fn listen_addr(mut self, address: impl Into<String>) -> Self {
        self.listen_addr = address.into();
        self
    }

    /// One more argument after `serve` (`--demo`, say).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// The folder it runs in.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = dir.as_ref().to_owned();
        self
    }

    /// One variable of its environment.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// What it logs (`RUST_LOG`); the line that gives its address is logged whatever this says.
    pub fn log_level(mut self, level: impl Into<String>) -> Self {
        self.log_level = level.into();
        self
    }

    /// Whether its log, after the line that gives its address, is copied to this stderr.
    pub fn show_log(mut self, show: bool) -> Self {
        self.show_log = show;
        self
    }

    /// Starts it and waits until it is ready.
    ///
    /// # Panics
    /// When it cannot be run, stops before it says where it listens, or is not ready within
    /// half a minute.
    pub async fn start(self) -> Service {
        let mut child = Command::new(&self.binary)
            .args(["serve", "--listen-addr", &self.listen_addr])
            .args(&self.args)
            .current_dir(&self.dir)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env(
                "RUST_LOG",
                format!("{},{LISTENING_TARGET}=info", self.log_level),
            )
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.binary.display()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let (told, address) = oneshot::channel();
        let log = Arc::new(Mutex::new(String::new()));
        tokio::spawn(read_log(stderr, told, self.show_log, Arc::clone(&log)));
        let address = match tokio::time::timeout(START_WAIT, address).await {
            Ok(Ok(Ok(address))) => address,
            Ok(Ok(Err(log))) => panic!("the service stopped before it listened:\n{log}"),
            Ok(Err(_)) => panic!("the service's log ended before it listened"),
            Err(_) => panic!("the service did not say where it listens"),
        };
        let asked = if address.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], address.port()))
        } else {
            address
        };
        let service = Service {
            address,
            base: format!("http://{asked}"),
            child,
            log,
        };
        service.wait_until_ready().await;
        service
    }
}

/// A running `connected serve`, killed when dropped.
pub struct Service {
    /// Where it listens.
    pub address: SocketAddr,
    /// Its origin: `http://127.0.0.1:PORT`.
    pub base: String,
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Service {
    /// Its process id, while it runs.
    #[must_use]
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits for it to exit.
    ///
    /// # Errors
    /// When its status cannot be read.
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// Everything it has logged so far, the `listening` line and after.
    #[must_use]
    pub fn log(&self) -> String {
        self.log.lock().map(|log| log.clone()).unwrap_or_default()
    }

    async fn wait_until_ready(&self) {
        let client = reqwest::Client::new();
        let url = format!("{}/readyz", self.base);
        let ready = async {
            loop {
                if let Ok(r) = client.get(&url).send().await
                    && r.status() == 200
                {
                    return;
                }
                tokio::time::sleep(READY_POLL).await;
            }
        };
        if tokio::time::timeout(START_WAIT, ready).await.is_err() {
            panic!("the service on {} did not become ready", self.address);
        }
    }
}

/// Reads the service's log to its end, so that it never waits on a full pipe: tells `told`
/// the address it bound (or, if it stops first, what it logged), then copies or drops the rest.
async fn read_log(
    stderr: ChildStderr,
    told: oneshot::Sender<Result<SocketAddr, String>>,
    show: bool,
    log: Arc<Mutex<String>>,
) {
    let mut lines = BufReader::new(stderr).lines();
    let mut before = String::new();
    let mut told = Some(told);
    while let Ok(Some(line)) = lines.next_line().await {
        if told.is_none() {
            keep(&log, &line);
        }
        match (told.take(), listening_address(&line)) {
            (Some(sender), Some(address)) => {
                keep(&log, &line);
                let _ = sender.send(Ok(address));
            }
            (Some(sender), None) => {
                before.push_str(&line);
                before.push('\n');
                told = Some(sender);
            }
            (None, _) if show => eprintln!("{line}"),
            (None, _) => {}
        }
    }
    if let Some(told) = told {
        let _ = told.send(Err(before));
    }
}

/// Adds a line to the log kept, up to [`LOG_KEPT`].
fn keep(log: &Mutex<String>, line: &str) {
    if let Ok(mut log) = log.lock()
        && log.len() < LOG_KEPT
    {
        log.push_str(line);
        log.push('\n');
    }
}

/// The address in the `listening` line of the log: `… listening address=127.0.0.1:PORT …`,
/// or `{"message":"listening","address":"127.0.0.1:PORT",…}` with `LOG_FORMAT=json`.
fn listening_address(line: &str) -> Option<SocketAddr> {
    if let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) {
        return (entry["message"] == "listening")
            .then(|| entry["address"].as_str()?.parse().ok())
            .flatten();
    }
    if !line.contains(" listening ") {
        return None;
    }
    let (_, rest) = line.split_once(" address=")?;
    rest.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::listening_address;

    #[test]
    fn the_address_is_read_from_the_listening_line() {
        let line = "2026-01-01T00:00:00.000000Z  INFO connected::inbound::cli: listening \
                    address=127.0.0.1:43125 upstreams=Upstreams { github: \"http://x\" }";
        assert_eq!(
            listening_address(line),
            Some("127.0.0.1:43125".parse().unwrap())
        );
        assert_eq!(
            listening_address("ERROR something address=127.0.0.1:1"),
            None
        );
        let json = r#"{"timestamp":"2026-01-01T00:00:00Z","level":"INFO","message":"listening","address":"127.0.0.1:43125"}"#;
        assert_eq!(
            listening_address(json),
            Some("127.0.0.1:43125".parse().unwrap())
        );
    }
}
