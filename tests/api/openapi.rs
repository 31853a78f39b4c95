//! The served OpenAPI document states what the server refuses, and the server refuses
//! exactly that; the documentation's own files and unknown paths under it.

use crate::fake::Graph;
use crate::support::spawn_app;
use connected::domain::Handle;
use serde_json::{Value, json};

const NO_CONTROLS: &str = r"^[^\x00-\x1F\x7F-\x9F]*$";

fn team() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
}

fn parameter<'a>(doc: &'a Value, path: &str, name: &str) -> &'a Value {
    doc["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{path} has no parameter {name}"))
}

#[tokio::test]
async fn the_document_states_the_bounds_of_handles_teams_and_pages() {
    let app = spawn_app(team()).await;
    let doc = app.get("/openapi.json").await.body;
    let handle = json!({
        "type": "string",
        "minLength": 1,
        "maxLength": Handle::MAX_LEN,
        "pattern": NO_CONTROLS,
    });
    for path in [
        "/connected/realtime/{dev1}/{dev2}",
        "/connected/register/{dev1}/{dev2}",
    ] {
        for name in ["dev1", "dev2"] {
            assert_eq!(
                parameter(&doc, path, name)["schema"],
                handle,
                "{path} {name}"
            );
        }
    }
    let register = "/connected/register/{dev1}/{dev2}";
    assert_eq!(
        parameter(&doc, register, "limit")["schema"],
        json!({"type": "integer", "format": "int32", "minimum": 1, "maximum": 10000})
    );
    assert_eq!(
        parameter(&doc, register, "before")["schema"],
        json!({"type": "string", "format": "date-time"})
    );
    let developers = &doc["components"]["schemas"]["TeamRequest"]["properties"]["developers"];
    assert_eq!(developers["type"], "array");
    assert_eq!(developers["minItems"], 2);
    assert_eq!(developers["maxItems"], 1000);
    assert_eq!(developers["items"], handle);
}

#[tokio::test]
async fn the_server_refuses_what_the_document_refuses_and_no_more() {
    let app = spawn_app(team()).await;
    // maxLength counts characters (code points), as the server does, not bytes.
    for longest in ["a".repeat(100), "é".repeat(100), "\u{1F600}".repeat(100)] {
        let encoded = url::form_urlencoded::byte_serialize(longest.as_bytes()).collect::<String>();
        let answer = app.register(&encoded, "bob").await;
        assert_eq!(answer.status, 404, "{longest}: {}", answer.body);
        let answer = app.register(&format!("{encoded}a"), "bob").await;
        assert_eq!(answer.status, 400, "{longest}a: {}", answer.body);
    }
    // 1,000 entries that fold to two developers are a team; 1,001 are not.
    let mut entries: Vec<String> = (0..1000)
        .map(|i| if i % 2 == 0 { "alice" } else { "BOB" }.to_owned())
        .collect();
    let answer = app
        .post_json("/connected/network", &json!({ "developers": entries }))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["developers"], json!(["alice", "BOB"]));
    entries.push("carol".to_owned());
    let answer = app
        .post_json("/connected/network", &json!({ "developers": entries }))
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(
        app.network(&["alice"]).await.status,
        400,
        "fewer than minItems"
    );
}

#[tokio::test]
async fn an_unknown_path_under_docs_is_the_json_404_and_swagger_ui_still_loads() {
    let app = spawn_app(Graph::new()).await;
    for path in [
        "/docs/nope",
        "/docs/nope/deeper.js",
        "/docs/swagger-ui.css.map",
    ] {
        let answer = app.get(path).await;
        assert_eq!(
            (answer.status, answer.body),
            (
                404,
                json!({"errors": [format!("no such resource: GET {path}")]})
            ),
            "{path}"
        );
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = client
        .get(format!("{}/docs", app.address))
        .send()
        .await
        .unwrap();
    assert!(redirect.status().is_redirection(), "{}", redirect.status());
    for (file, content_type) in [
        ("/docs/", "text/html"),
        ("/docs/index.html", "text/html"),
        ("/docs/swagger-ui.css", "text/css"),
        ("/docs/index.css", "text/css"),
        ("/docs/swagger-ui-bundle.js", "javascript"),
        ("/docs/swagger-ui-standalone-preset.js", "javascript"),
        ("/docs/swagger-initializer.js", "javascript"),
    ] {
        let response = client
            .get(format!("{}{file}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{file}");
        let served = response.headers()["content-type"].to_str().unwrap();
        assert!(served.contains(content_type), "{file}: {served}");
        assert!(!response.bytes().await.unwrap().is_empty(), "{file}");
    }
}

/// Every operation of the document: its path, method and operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let paths = doc["paths"].as_object().unwrap();
    paths
        .iter()
        .flat_map(|(path, methods)| {
            let methods = methods.as_object().unwrap();
            methods
                .iter()
                .map(|(method, op)| (path.clone(), method.clone(), op.clone()))
        })
        .collect()
}

#[tokio::test]
async fn every_operation_has_a_title_a_description_and_an_id_saying_what_it_does() {
    let app = spawn_app(team()).await;
    let doc = app.get("/openapi.json").await.body;
    let mut ids = Vec::new();
    for (path, method, op) in operations(&doc) {
        let summary = op["summary"].as_str().unwrap_or_default();
        let at = format!("{method} {path}: {summary:?}");
        assert!(!summary.is_empty() && summary.len() <= 60, "{at}");
        assert!(summary.split_whitespace().count() <= 8, "{at}");
        assert!(!summary.contains('\n') && !summary.ends_with('.'), "{at}");
        let description = op["description"].as_str().unwrap_or_default();
        assert!(description.len() > summary.len(), "{at} has no description");
        let id = op["operationId"].as_str().unwrap().to_owned();
        let camel = id.starts_with(|c: char| c.is_ascii_lowercase())
            && id.chars().all(|c| c.is_ascii_alphanumeric());
        assert!(camel, "{method} {path}: {id} is not camelCase");
        ids.push(id);
    }
    ids.sort();
    assert_eq!(
        ids,
        [
            "checkPair",
            "estimateTeamNetwork",
            "forgetMember",
            "health",
            "mapTeamNetwork",
            "metrics",
            "readMember",
            "readPairHistory",
            "readiness",
            "setHiddenOrganisations",
            "signOut",
        ],
        "each once"
    );
}
