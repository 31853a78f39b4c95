use super::*;

fn h(s: &str) -> Handle {
    Handle::parse(s).unwrap()
}

fn appview(base: &str, suffix: &str) -> BlueskyAppView {
    BlueskyAppView::new(
        base.parse().unwrap(),
        suffix,
        Duration::from_secs(1),
        Arc::default(),
        crate::domain::TestClock::at("2026-12-01T12:00:00Z"),
    )
    .unwrap()
}

#[test]
fn a_handle_without_a_dot_lives_under_the_suffix() {
    let appview = appview("https://public.api.bsky.app", "bsky.social");
    assert_eq!(appview.actor(&h("Alice")), "alice.bsky.social");
    assert_eq!(appview.actor(&h("alice.example.com")), "alice.example.com");
    assert!(appview.accepts(&h("alice")));
    assert!(appview.accepts(&h("a-b.example")));
    assert!(!appview.accepts(&h("a_b")));
    assert!(!appview.accepts(&h("-a")));
    assert!(!appview.accepts(&h("a..b")));
    assert!(!appview.accepts(&h("bob.2")));
    assert!(appview.accepts(&h("bob.example2")));
}

#[test]
fn a_did_follows_atprotos_syntax() {
    for ok in [
        "did:plc:z72i7hdynmk6r22z27h6tvur",
        "did:web:example.com",
        "did:plc:a%20b",
    ] {
        assert!(is_did(ok), "{ok}");
    }
    let long = format!("did:plc:{}", "a".repeat(2048));
    for bad in [
        "",
        "did:",
        "did:plc:",
        "did:PLC:a",
        "plc:a",
        "did:plc:a\u{1}",
        "did:plc:a:",
        &long,
    ] {
        assert!(!is_did(bad), "{bad:?}");
    }
}

#[test]
fn query_parameters_are_repeated_and_encoded() {
    let url = appview("http://127.0.0.1:9", ".bsky.social").url(
        "app.bsky.graph.getRelationships",
        &[
            ("actor", "did:plc:a"),
            ("others", "did:plc:b"),
            ("others", "x&y"),
        ],
    );
    assert_eq!(
        url.as_str(),
        "http://127.0.0.1:9/xrpc/app.bsky.graph.getRelationships?actor=did%3Aplc%3Aa&others=did%3Aplc%3Ab&others=x%26y"
    );
}
