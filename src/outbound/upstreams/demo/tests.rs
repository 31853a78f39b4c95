use super::*;

fn h(s: &str) -> Handle {
    Handle::parse(s).unwrap()
}

#[tokio::test]
async fn the_bundled_graph_loads() {
    let graph = DemoGraph::bundled().unwrap();
    assert!(!graph.orgs.is_empty());
    assert!(!graph.users.is_empty());
}

#[tokio::test]
async fn a_graph_answers_case_insensitively_and_counts_follows() {
    let graph = DemoGraph::from_json(
        r#"{"github": {"users": {"Alice": {"orgs": ["Acme"]}}},
            "twitter": {"users": {"Alice": {"following": ["BOB"], "id": 7}, "bob": {}}}}"#,
    )
    .unwrap();
    assert_eq!(
        graph
            .organisations(&h("aLiCe"), &Caller::anonymous())
            .await
            .unwrap(),
        Organisation::list(["Acme"]).unwrap()
    );
    assert_eq!(
        graph.organisations(&h("bob"), &Caller::anonymous()).await,
        Err(CodeHostError::NotFound)
    );
    let users = graph
        .users(&[&h("ALICE"), &h("bob"), &h("carol")], &Caller::anonymous())
        .await
        .unwrap();
    let alice = users[0].clone().unwrap();
    let bob = users[1].clone().unwrap();
    assert_eq!(alice.id, "7");
    assert_eq!((alice.following, bob.followers), (Some(1), Some(1)));
    assert!(users[2].is_none());
    assert!(graph.follows(&alice, &bob).unwrap());
    assert!(!graph.follows(&bob, &alice).unwrap());
}

#[test]
fn a_follow_of_someone_outside_the_graph_is_refused() {
    let err = DemoGraph::from_json(r#"{"twitter": {"users": {"a": {"following": ["zed"]}}}}"#)
        .unwrap_err();
    assert!(err.to_string().contains("follows zed"), "{err}");
}

#[test]
fn a_name_that_cannot_be_one_is_refused_with_where_it_is() {
    let err = DemoGraph::from_json(
        "{\"github\": {\"users\": {\n  \"ann\": {\"orgs\": [\"guild\", \"bad\\u0001\"]}}}}",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("invalid demo graph: the organisation \"bad\\u{1}\" is not a GitHub login")
            && err.ends_with("at line 2 column 40"),
        "{err}"
    );
    let huge = format!(
        r#"{{"github": {{"users": {{"ann": {{"orgs": ["{}"]}}}}}}}}"#,
        "x".repeat(100_000)
    );
    let err = DemoGraph::from_json(&huge).unwrap_err().to_string();
    assert!(err.len() < 300 && err.contains("(100000 bytes)"), "{err}");
    for (file, wrong) in [
        (
            r#"{"github": {"users": {"a_b": {}}}}"#,
            "is not a GitHub login",
        ),
        (
            r#"{"twitter": {"users": {"a-b": {}}}}"#,
            "is not an X username",
        ),
        (
            r#"{"github": {"users": {"ann": {"orgs": ["a\u0000"]}}}}"#,
            "is not a GitHub login",
        ),
    ] {
        let err = DemoGraph::from_json(file).unwrap_err().to_string();
        assert!(
            err.contains(wrong) && err.contains("at line 1 column"),
            "{err}"
        );
    }
}

#[test]
fn a_developer_has_at_most_a_thousand_organisations() {
    let orgs = |n: usize| {
        let names: Vec<String> = (0..n).map(|i| format!("\"o{i}\"")).collect();
        format!(
            r#"{{"github": {{"users": {{"ann": {{"orgs": [{}]}}}}}}}}"#,
            names.join(",")
        )
    };
    assert!(DemoGraph::from_json(&orgs(1000)).is_ok());
    let err = DemoGraph::from_json(&orgs(1001)).unwrap_err().to_string();
    assert!(err.contains("more than 1000 organisations"), "{err}");
}

#[test]
fn unknown_fields_and_bad_json_are_refused() {
    assert!(DemoGraph::from_json(r#"{"gitlab": {}}"#).is_err());
    assert!(DemoGraph::from_json("{").is_err());
    assert!(
        DemoGraph::from_json(r#"{"twitter": {"users": {"a": {"id": 1}, "b": {"id": "1"}}}}"#)
            .is_err()
    );
}
