//! A pair with a long history, read whole by several clients at once from the real binary:
//! every answer is complete, and the server's memory does not grow with the history.

use crate::fake::{Service, ServiceCommand};
use crate::support::TestDatabase;

const BIN: &str = env!("CARGO_BIN_EXE_connected");

/// Entries in the long history.
pub(crate) const ENTRIES: usize = 200_000;
/// Clients reading it whole at once.
const READERS: usize = 8;
/// The most the server's peak resident memory may be after the reads. The whole history as
/// JSON is about 20 MB, so holding it once per reader would be several times this.
const PEAK_LIMIT_KB: u64 = 100 * 1024;

/// The real binary on `database`, with the demo graph.
async fn start(database: &str) -> Service {
    ServiceCommand::new(BIN)
        .arg("--demo")
        .env("DATABASE_URL", database)
        .start()
        .await
}

/// A line of /proc/PID/status of `server`, in kB.
fn status_kb(server: &Service, field: &str) -> u64 {
    let pid = server.id().expect("the server is running");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {status}"))
}

/// `ENTRIES` checks of alice and erin, written straight into the table in one statement.
pub(crate) async fn fill(database: &str) {
    let sql = if database.starts_with("sqlite") {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ENTRIES})
             INSERT INTO checks (developer_a, developer_b, registered_at_ms, connected, organisations, social_graph)
             SELECT 'alice', 'erin', 1600000000000 + i, i % 2, CASE i % 2 WHEN 1 THEN '[\"acme\",\"Zeta-Org\"]' ELSE '[]' END, 'x' FROM n"
        )
    } else {
        format!(
            "INSERT INTO checks (developer_a, developer_b, registered_at, connected, organisations, social_graph)
             SELECT 'alice', 'erin', timestamptz '2020-09-13 12:26:40+00' + i * interval '1 millisecond',
                    i % 2 = 1, CASE i % 2 WHEN 1 THEN '{{acme,Zeta-Org}}'::text[] ELSE '{{}}' END, 'x'
             FROM generate_series(1, {ENTRIES}) AS i"
        )
    };
    execute(database, &sql).await;
}

async fn execute(database: &str, sql: &str) {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if database.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(database).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(database).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
}

/// The two stories, each eight readers of 300,000 entries, take turns: run together on two
/// cores, each would measure the other's load as much as its own.
pub(crate) static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn story(database: &str) {
    let _turn = ONE_AT_A_TIME.lock().await;
    // The server migrates the database as it starts; the history is written after.
    let server = start(database).await;
    fill(database).await;
    let client = reqwest::Client::new();
    let url = format!("{}/connected/register/erin/alice", server.base);

    let readers = (0..READERS).map(|_| {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move {
            let response = client.get(&url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["content-type"], "application/json");
            let body = response.bytes().await.unwrap();
            let entries: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
            assert_eq!(entries.len(), ENTRIES);
            assert_eq!(
                entries[0],
                serde_json::json!({"registered_at": "2020-09-13T12:26:40.001Z", "connected": true,
                                   "organisations": ["acme", "Zeta-Org"], "social_graph": "x",
                                   "member_sign_in": false})
            );
            assert_eq!(
                entries[ENTRIES - 1]["registered_at"],
                "2020-09-13T12:30:00.000Z",
                "the newest entry comes last"
            );
            assert!(
                entries
                    .windows(2)
                    .all(|w| w[0]["registered_at"].as_str() < w[1]["registered_at"].as_str())
            );
        })
    });
    for reader in futures::future::join_all(readers).await {
        reader.unwrap();
    }
    let peak = status_kb(&server, "VmHWM:");
    eprintln!(
        "{READERS} whole reads of {ENTRIES} entries: the server's peak resident memory was {peak} kB"
    );
    assert!(
        peak < PEAK_LIMIT_KB,
        "the server peaked at {peak} kB reading {READERS} long histories at once"
    );

    // A register that fails part way through a history cuts the answer: the client sees an
    // unfinished body, never a shorter list that looks whole.
    let mut response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response
        .chunk()
        .await
        .unwrap()
        .expect("a first chunk")
        .to_vec();
    execute(database, "DROP TABLE checks").await;
    let ended = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    assert!(ended.is_err(), "the cut answer ended as if it were whole");
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());
    // Once the register cannot be read at all, the status says so. On a new connection: a
    // reader's, pooled since it finished, may be reaching the idle timeout on a loaded machine.
    let refused = reqwest::Client::new().get(&url).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(
        refused.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"errors": ["the register is unavailable; nothing was read, try again later"]}),
        "a read speaks of reading"
    );
}

#[tokio::test]
async fn eight_whole_reads_of_a_long_sqlite_history_at_once_stay_small() {
    let dir = tempfile::tempdir().unwrap();
    story(&format!(
        "sqlite://{}",
        dir.path().join("long.db").display()
    ))
    .await;
}

#[tokio::test]
async fn eight_whole_reads_of_a_long_postgres_history_at_once_stay_small() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    story(&db.url).await;
}
