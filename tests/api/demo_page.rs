//! The page names developers to try only when the service answers from a demo graph, and
//! then only developers that graph holds on both networks.

use crate::fake::Graph;
use crate::support::{TestApp, spawn_app, spawn_app_with};

async fn page(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
async fn a_demo_graph_file_s_developers_are_named_in_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("graph.json");
    // ann and cy follow each other and share an organisation; ben is on X only, dee on
    // GitHub only: neither can be checked, so neither is named.
    let graph = r#"{"github": {"users": {"ann": {"orgs": ["o"]}, "cy": {"orgs": ["o"]}, "dee": {}, "eve": {}}},
                    "twitter": {"users": {"ann": {"following": ["cy"]}, "ben": {}, "cy": {"following": ["ann"]}, "eve": {}}}}"#;
    std::fs::write(&file, graph).unwrap();
    let app = spawn_app_with(Graph::new(), |config| {
        config.upstreams.demo = Some(Some(file.clone()));
    })
    .await;
    let text = page(&app).await;
    assert!(
        text.contains(r#"<meta name="demo-pair" content="ann cy">"#),
        "{text}"
    );
    assert!(
        text.contains(r#"<meta name="demo-team" content="ann cy eve">"#),
        "{text}"
    );
    // What it names is there to be checked.
    assert_eq!(app.realtime("ann", "cy").await.status, 200);
}

#[tokio::test]
async fn the_bundled_demo_graph_suggests_alice_and_bob() {
    let app = spawn_app_with(Graph::new(), |config| config.upstreams.demo = Some(None)).await;
    let text = page(&app).await;
    assert!(
        text.contains(r#"<meta name="demo-pair" content="alice bob">"#),
        "{text}"
    );
    assert_eq!(app.realtime("alice", "bob").await.status, 200);
}

#[tokio::test]
async fn the_real_networks_page_suggests_no_one() {
    let app = spawn_app(Graph::new().dev("alice", &["acme"], &[])).await;
    let text = page(&app).await;
    assert!(!text.contains(r#"<meta name="demo-"#), "{text}");
    assert!(!text.contains("<!--demo-->"), "no mark is left in the page");
}
