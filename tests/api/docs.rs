//! The OpenAPI document, its viewers and the operational endpoints.

use crate::fake::Graph;
use crate::support::spawn_app;
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
async fn series(app: &crate::support::TestApp, metric: &str) -> Vec<String> {
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

/// Whether `text` makes a browser load something from another origin: a script, image or
/// frame source, a style sheet's `url(…)` or `@import`, a `fetch`, or a CDN named at all.
/// Links a reader may follow (`href`) and names that are never loaded (XML namespaces,
/// JSON Schema ids) are not loads.
fn loads_from_elsewhere(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for opening in [
        "src=\"",
        "src='",
        "src:\"",
        "src:'",
        "src: \"",
        "url(",
        "url(\"",
        "url('",
        "@import \"",
        "@import url(",
        "fetch(\"",
        "fetch('",
    ] {
        for (at, _) in text.match_indices(opening) {
            let rest = &text[at + opening.len()..];
            if rest.starts_with("http://") || rest.starts_with("https://") || rest.starts_with("//")
            {
                found.push(rest.chars().take(80).collect());
            }
        }
    }
    for (at, _) in text.match_indices("cdn.") {
        found.push(text[at.saturating_sub(40)..].chars().take(80).collect());
    }
    found
}

#[tokio::test]
async fn the_viewers_load_nothing_from_another_origin_and_say_so_to_the_browser() {
    let app = spawn_app(Graph::new()).await;
    for path in [
        "/docs/",
        "/docs/swagger-initializer.js",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui-standalone-preset.js",
        "/docs/swagger-ui.css",
        "/docs/index.css",
        "/redoc",
        "/redoc/redoc.standalone.js",
    ] {
        let answer = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        let headers = answer.headers().clone();
        let policy = headers
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path} has no content security policy"))
            .to_str()
            .unwrap()
            .to_owned();
        assert!(policy.contains("default-src 'self'"), "{path}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(policy.contains("script-src 'self';"), "{path}: {policy}");
        assert!(
            !policy.contains("http") && !policy.contains("unsafe-eval") && !policy.contains('*'),
            "{path} names another origin: {policy}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        let text = answer.text().await.unwrap();
        assert_eq!(loads_from_elsewhere(&text), Vec::<String>::new(), "{path}");
    }
    let initializer = app
        .client
        .get(format!("{}/docs/swagger-initializer.js", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        initializer.contains("\"validatorUrl\": \"none\""),
        "Swagger UI would ask validator.swagger.io: {initializer}"
    );
}
