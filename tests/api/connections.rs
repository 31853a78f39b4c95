//! Connections: a slow request head and an idle connection are closed, the cap on open
//! connections sheds idle ones so that a health check gets in, and a request in flight is
//! never cut. Timings are generous: these say what happens, benchmarks say how fast.

use crate::fake::Graph;
use crate::support::{TestApp, spawn_app_with};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout};

fn pair() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
}

fn socket_address(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(socket_address(app)).await.unwrap()
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

/// Reads one response to a request for /healthz (its head and its small JSON body).
async fn read_response(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut buf = [0; 1024];
    while !answer.ends_with(b"}") {
        let n = timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("an answer within 5 s")
            .unwrap();
        assert!(
            n > 0,
            "closed before answering: {:?}",
            String::from_utf8_lossy(&answer)
        );
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(answer).unwrap()
}

/// Waits up to `limit` for the server to close the connection; what it sent before is
/// returned. Panics if it is still open then.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Vec<u8> {
    let mut sent = Vec::new();
    let mut buf = [0; 1024];
    let deadline = Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => panic!("still open after {limit:?}"),
            Ok(Ok(0) | Err(_)) => return sent,
            Ok(Ok(n)) => sent.extend_from_slice(&buf[..n]),
        }
    }
}

/// Whether the server has closed the connection (read at once, without waiting long).
async fn is_closed(stream: &mut TcpStream) -> bool {
    let mut buf = [0; 64];
    matches!(
        timeout(Duration::from_millis(50), stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn a_request_head_sent_a_byte_a_second_is_cut_at_the_header_timeout() {
    let app = spawn_app_with(pair(), |c| {
        c.http.header_read_timeout = Duration::from_secs(1)
    })
    .await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    let (mut reader, mut writer) = stream.split();
    let trickle = async {
        loop {
            sleep(Duration::from_secs(1)).await;
            if writer.write_all(b"a").await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    };
    let closed = async {
        let mut buf = [0; 256];
        let mut sent = Vec::new();
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return sent,
                Ok(n) => sent.extend_from_slice(&buf[..n]),
            }
        }
    };
    let sent = tokio::select! {
        sent = closed => sent,
        () = trickle => unreachable!(),
        () = sleep(Duration::from_secs(4)) => panic!("a trickled head still open after 4 s"),
    };
    assert!(
        sent.is_empty(),
        "answered: {}",
        String::from_utf8_lossy(&sent)
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_at_the_header_timeout() {
    let app = spawn_app_with(pair(), |c| {
        c.http.header_read_timeout = Duration::from_secs(1)
    })
    .await;
    let mut stream = connect(&app).await;
    assert!(
        closed_within(&mut stream, Duration::from_secs(4))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_kept_alive_connection_outlives_the_header_timeout_and_closes_at_the_idle_timeout() {
    let app = spawn_app_with(pair(), |c| {
        c.http.header_read_timeout = Duration::from_secs(1);
        c.http.idle_timeout = Duration::from_secs(4);
    })
    .await;
    let mut stream = connect(&app).await;
    stream.write_all(HEALTHZ).await.unwrap();
    assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));
    // Idle for twice the header timeout: a pooled connection is not a slow request head.
    sleep(Duration::from_secs(2)).await;
    stream.write_all(HEALTHZ).await.unwrap();
    assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));
    let idle = Instant::now();
    assert!(
        closed_within(&mut stream, Duration::from_secs(8))
            .await
            .is_empty()
    );
    assert!(
        idle.elapsed() >= Duration::from_secs(3),
        "{:?}",
        idle.elapsed()
    );
}

#[tokio::test]
async fn at_the_cap_the_longest_idle_connections_make_room_and_healthz_answers() {
    let app = spawn_app_with(pair(), |c| c.http.max_connections = 20).await;
    let mut idle = Vec::new();
    for _ in 0..40 {
        let mut stream = connect(&app).await;
        // Each is accepted (and counted) before the next one.
        stream.write_all(HEALTHZ).await.unwrap();
        read_response(&mut stream).await;
        idle.push(stream);
    }
    let health = reqwest::Client::new()
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let mut closed = Vec::new();
    for (n, stream) in idle.iter_mut().enumerate() {
        if is_closed(stream).await {
            closed.push(n);
        }
    }
    // The 20 opened first were idle the longest, and one more made room for the health check.
    assert_eq!(closed, (0..21).collect::<Vec<_>>());
}

#[tokio::test]
async fn at_the_cap_a_request_in_flight_is_not_cut() {
    let app = spawn_app_with(pair(), |c| c.http.max_connections = 3).await;
    app.x.set_latency(Duration::from_secs(2));
    let client = reqwest::Client::new();
    let slow = tokio::spawn(
        client
            .get(format!("{}/connected/realtime/alice/bob", app.address))
            .send(),
    );
    // The check is waiting on X: every other connection goes idle around it.
    while app.x.call_count() == 0 {
        sleep(Duration::from_millis(20)).await;
    }
    let mut others = Vec::new();
    for _ in 0..20 {
        let mut stream = connect(&app).await;
        stream.write_all(HEALTHZ).await.unwrap();
        assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));
        others.push(stream);
    }
    let answer = slow.await.unwrap().unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.json::<serde_json::Value>().await.unwrap(),
        json!({"connected": true, "organisations": ["acme"]})
    );
}

#[tokio::test]
async fn at_the_cap_with_every_connection_busy_a_new_one_waits_for_a_slot() {
    let app = spawn_app_with(pair(), |c| c.http.max_connections = 1).await;
    app.x.set_latency(Duration::from_secs(1));
    let slow = tokio::spawn(
        reqwest::Client::new()
            .get(format!("{}/connected/realtime/alice/bob", app.address))
            .send(),
    );
    while app.x.call_count() == 0 {
        sleep(Duration::from_millis(20)).await;
    }
    let waited = Instant::now();
    let mut waiting = connect(&app).await;
    waiting.write_all(HEALTHZ).await.unwrap();
    assert!(
        read_response(&mut waiting)
            .await
            .starts_with("HTTP/1.1 200")
    );
    // The check still had at least one X call of a second to make when the health check
    // came: answered at once, it would have been served beside it, over the cap.
    assert!(
        waited.elapsed() >= Duration::from_millis(500),
        "served after {:?}",
        waited.elapsed()
    );
    assert_eq!(slow.await.unwrap().unwrap().status(), 200);
}

#[tokio::test]
async fn a_request_head_over_64_kib_is_refused() {
    let app = spawn_app_with(pair(), |_| {}).await;
    let sent = reqwest::Client::new()
        .get(format!("{}/healthz", app.address))
        .header("x-padding", "p".repeat(70 * 1024))
        .send()
        .await;
    // The server may close before it has read the whole head, and the client then see a
    // reset instead of the 431: either way the request was not served.
    if let Ok(response) = sent {
        assert_eq!(response.status(), 431);
    }
}

#[tokio::test]
async fn http2_with_prior_knowledge_is_served() {
    let app = spawn_app_with(pair(), |_| {}).await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let response = client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_request_body_sent_a_byte_a_second_is_cut_at_the_header_timeout() {
    let app = spawn_app_with(pair(), |c| {
        c.http.header_read_timeout = Duration::from_secs(1)
    })
    .await;
    let mut stream = connect(&app).await;
    stream
        .write_all(
            b"POST /connected/network HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{\"developers\": [",
        )
        .await
        .unwrap();
    // A byte a second, for longer than the timeout: the body never completes.
    let trickle = async {
        for _ in 0..10 {
            sleep(Duration::from_secs(1)).await;
            if stream.write_all(b" ").await.is_err() {
                break;
            }
        }
    };
    let _ = timeout(Duration::from_millis(2500), trickle).await;
    // The server answered (a 400: the body could not be read in time) and let go.
    let answer = closed_within(&mut stream, Duration::from_secs(5)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
}
