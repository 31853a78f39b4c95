//! Clients that do not read: a response that waits on its client for the send timeout drops
//! its connection, over HTTP/2 and HTTP/1.1; at the cap, such a client makes room for a new
//! one, its HTTP/2 streams weighing as connections; and a whole history's turn is given back
//! when its connection goes. Timings are generous: these say what happens.

use crate::fake::Graph;
use crate::long_history::{ENTRIES, ONE_AT_A_TIME, fill};
use crate::support::{TestApp, spawn_app_with};
use axum::body::Bytes;
use axum::http::Request;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

fn pair() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
}

fn socket_address(app: &TestApp) -> std::net::SocketAddr {
    app.address.trim_start_matches("http://").parse().unwrap()
}

/// An HTTP/2 client (prior knowledge) that opens no flow-control window
/// (`SETTINGS_INITIAL_WINDOW_SIZE=0`) and never will: no response body can reach it.
struct ZeroWindow {
    client: h2::client::SendRequest<Bytes>,
    /// Ends when the server closes the connection.
    connection: JoinHandle<()>,
    /// Its responses, kept so that their streams stay open.
    responses: Vec<axum::http::Response<h2::RecvStream>>,
}

impl ZeroWindow {
    async fn connect(app: &TestApp) -> Self {
        let tcp = TcpStream::connect(socket_address(app)).await.unwrap();
        let (client, connection) = h2::client::Builder::new()
            .initial_window_size(0)
            .handshake::<_, Bytes>(tcp)
            .await
            .unwrap();
        let connection = tokio::spawn(async move {
            let _ = connection.await;
        });
        Self {
            client,
            connection,
            responses: Vec::new(),
        }
    }

    /// Asks for `/healthz` on a stream of its own, and returns once the answer's head has
    /// come (its body cannot).
    async fn healthz(&mut self) {
        let request = Request::get("http://localhost/healthz").body(()).unwrap();
        let mut client = self.client.clone().ready().await.unwrap();
        let (response, _) = client.send_request(request, true).unwrap();
        let response = timeout(Duration::from_secs(5), response)
            .await
            .expect("a head within 5 s")
            .unwrap();
        assert_eq!(response.status(), 200);
        self.responses.push(response);
    }

    /// Whether the server closes the connection within `limit`.
    async fn closed_within(&mut self, limit: Duration) -> bool {
        timeout(limit, &mut self.connection).await.is_ok()
    }
}

/// A `/healthz` over a new HTTP/1.1 connection, given 10 s.
async fn healthz(app: &TestApp) -> u16 {
    let answer = reqwest::Client::new()
        .get(format!("{}/healthz", app.address))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("an answer within 10 s");
    answer.status().as_u16()
}

#[tokio::test]
async fn an_http2_client_that_opens_no_window_is_dropped_at_the_send_timeout() {
    let app = spawn_app_with(pair(), |c| {
        c.http.send_timeout = Duration::from_secs(1);
        c.http.idle_timeout = Duration::from_secs(60);
    })
    .await;
    let mut silent = ZeroWindow::connect(&app).await;
    silent.healthz().await;
    assert!(
        silent.closed_within(Duration::from_secs(20)).await,
        "a response that could not be sent held its connection for 20 s"
    );
    assert_eq!(healthz(&app).await, 200);
}

#[tokio::test]
async fn at_the_cap_clients_that_do_not_read_make_room_for_a_health_check() {
    let app = spawn_app_with(pair(), |c| {
        c.http.max_connections = 5;
        c.http.send_timeout = Duration::from_secs(600);
    })
    .await;
    let mut silent = Vec::new();
    for _ in 0..5 {
        let mut client = ZeroWindow::connect(&app).await;
        client.healthz().await;
        silent.push(client);
    }
    assert_eq!(healthz(&app).await, 200);
    // The one whose answer had waited the longest made room.
    assert!(silent[0].closed_within(Duration::from_secs(5)).await);
    for client in &mut silent[1..] {
        assert!(!client.closed_within(Duration::from_millis(100)).await);
    }
}

#[tokio::test]
async fn an_http2_connections_streams_weigh_against_the_cap_as_connections() {
    let app = spawn_app_with(pair(), |c| {
        c.http.max_connections = 3;
        c.http.send_timeout = Duration::from_secs(600);
    })
    .await;
    let mut silent = ZeroWindow::connect(&app).await;
    for _ in 0..3 {
        silent.healthz().await;
    }
    assert_eq!(healthz(&app).await, 200);
    assert!(
        silent.closed_within(Duration::from_secs(10)).await,
        "one connection with three requests in flight was not counted as three at a cap of 3"
    );
}

/// Whole histories read at once by one instance (as the server counts them).
fn long_read_turns() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    (cores * 2).max(2)
}

/// An HTTP/1.1 client that asks for `path` and reads only the answer's first bytes: with a
/// small receive buffer, the server soon has more than it can hand over.
async fn never_reads(app: &TestApp, path: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(socket_address(app)).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0; 12];
    timeout(Duration::from_secs(30), stream.read_exact(&mut head))
        .await
        .expect("an answer begins within 30 s")
        .unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    stream
}

/// Whether the server closes `stream` within `limit` (what it sent before is read and
/// thrown away).
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut buf = vec![0; 64 * 1024];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn clients_that_never_read_a_long_history_give_back_their_turns_and_connections() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("long.db").display());
    let app = spawn_app_with(pair(), |c| {
        c.database.url = database.clone().into();
        c.http.send_timeout = Duration::from_secs(1);
        c.http.idle_timeout = Duration::from_secs(60);
    })
    .await;
    fill(&database).await;
    let path = "/connected/register/erin/alice";
    let mut silent = Vec::new();
    for _ in 0..long_read_turns() {
        silent.push(never_reads(&app, path).await);
    }

    // Every turn was taken by a client that does not read: this read gets one only once
    // they are gone (it would wait 45 s and answer 503 otherwise).
    let answer = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let entries: Vec<serde_json::Value> = answer.json().await.unwrap();
    assert_eq!(entries.len(), ENTRIES);
    for stream in &mut silent {
        assert!(closed_within(stream, Duration::from_secs(10)).await);
    }
}
