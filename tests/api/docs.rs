//! The OpenAPI document, its viewers and the operational endpoints.

use crate::fake::Graph;
use crate::helpers::spawn_app;
use serde_json::{Value, json};

#[tokio::test]
async fn the_openapi_document_lists_both_endpoints_with_all_their_responses() {
    let app = spawn_app(Graph::new()).await;
    let doc: Value = app.get("/openapi.json").await.body;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    let realtime = &paths["/connected/realtime/{dev1}/{dev2}"]["get"]["responses"];
    for code in ["200", "400", "404", "502", "503"] {
        assert!(realtime.get(code).is_some(), "realtime lacks {code}");
    }
    assert!(realtime["503"]["headers"].get("Retry-After").is_some());
    let register = &paths["/connected/register/{dev1}/{dev2}"]["get"]["responses"];
    for code in ["200", "404"] {
        assert!(register.get(code).is_some(), "register lacks {code}");
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for schema in ["VerdictBody", "ErrorsBody", "RegisterEntry"] {
        assert!(schemas.contains_key(schema), "missing schema {schema}");
    }
    // Every $ref points at a schema that exists.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "dangling $ref to {name}");
    }
}

#[tokio::test]
async fn swagger_ui_and_redoc_are_served_by_the_binary() {
    let app = spawn_app(Graph::new()).await;
    let client = &app.client;
    let page = client
        .get(format!("{}/docs/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let bundle = client
        .get(format!("{}/docs/swagger-ui-bundle.js", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);

    let redoc = client
        .get(format!("{}/redoc", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        redoc.contains("src=\"/redoc/redoc.standalone.js\"") && !redoc.contains("cdn"),
        "{redoc}"
    );
    let script = client
        .get(format!("{}/redoc/redoc.standalone.js", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.text().await.unwrap().contains("Redoc"));
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app(Graph::new()).await;
    assert_eq!(app.get("/healthz").await.status, 200);
    let ready = app.get("/readyz").await;
    assert_eq!(
        (ready.status, ready.body),
        (200, json!({"status": "ready"}))
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let app = spawn_app(Graph::new()).await;
    let answer = app.get("/connected/realtime/alice").await;
    assert_eq!(answer.status, 404);
    assert_eq!(
        answer.body,
        json!({"errors": ["no such resource: GET /connected/realtime/alice"]})
    );
    let response = app
        .client
        .delete(format!("{}/connected/register/a/b", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"errors": ["DELETE is not allowed on /connected/register/a/b"]})
    );
}

/// The lines of one metric in `/metrics`: one per series.
async fn series(app: &crate::helpers::TestApp, metric: &str) -> Vec<String> {
    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|line| line.starts_with(metric))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn invented_methods_add_no_series_and_are_not_echoed() {
    let app = spawn_app(Graph::new()).await;
    let send = |method: &str, path: &str| {
        app.client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", app.address),
            )
            .send()
    };
    // One of each kind first, and a read of /metrics, so that every series the test may
    // touch exists.
    send("FOO0", "/healthz").await.unwrap();
    send("FOO0", "/no/such/page").await.unwrap();
    series(&app, "connected_http_requests_total").await;
    let before = series(&app, "connected_http_requests_total").await;
    for n in 1..=200 {
        let path = if n % 2 == 0 {
            "/healthz"
        } else {
            "/no/such/page"
        };
        let status = send(&format!("FOO{n}"), path).await.unwrap().status();
        assert!(status == 404 || status == 405, "FOO{n} {path}: {status}");
    }
    let after = series(&app, "connected_http_requests_total").await;
    assert_eq!(
        before.len(),
        after.len(),
        "before {before:#?}\nafter {after:#?}"
    );
    assert!(after.iter().all(|line| !line.contains("FOO")), "{after:#?}");
    assert!(
        after
            .iter()
            .any(|line| line.contains(r#"method="other",status="405""#)),
        "{after:#?}"
    );

    let long = "X".repeat(50_000);
    for path in ["/healthz", "/no/such/page"] {
        let response = send(&long, path).await.unwrap();
        let body = response.text().await.unwrap();
        assert!(body.len() < 200, "{path}: {} bytes", body.len());
        assert!(body.contains("an unknown method"), "{path}: {body}");
    }
    let path = format!("/{}", "p".repeat(20_000));
    let body = send("GET", &path).await.unwrap().text().await.unwrap();
    assert!(body.len() < 400, "{} bytes", body.len());
}
