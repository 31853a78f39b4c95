//! The members' store, the same stories against SQLite and PostgreSQL: sign-ins taken once,
//! links replaced, sessions, tokens by handle, and a member forgotten to the last row; and,
//! in SQLite's files, no token in clear.

mod fixtures;

use crate::support::TestDatabase;
use chrono::Duration;
use connected::domain::Network;
use connected::domain::members::{Digest, Forgot, MembersError};
use connected::secret::{Secret, TokenCipher};
use fixtures::{Store, account, cipher, earlier, handle, link, now, pending, sqlite_url, token};

/// A sign-in is taken once, and not at all once expired; of two taking it at once, one has it.
async fn sign_ins(store: Store) {
    let members = &store.members;
    let later = now() + Duration::minutes(10);
    let state = Digest::of("state-1");
    let begun = pending(Some("Ada"), later);
    members.begin(&state, &begun, earlier()).await.unwrap();
    assert_eq!(members.take(&state, now()).await.unwrap(), Some(begun));
    assert_eq!(members.take(&state, now()).await.unwrap(), None);

    let anonymous = Digest::of("state-2");
    members
        .begin(&anonymous, &pending(None, later), earlier())
        .await
        .unwrap();
    let taken = members.take(&anonymous, now()).await.unwrap().unwrap();
    assert_eq!(taken.member, None);
    assert_eq!(taken.verifier.expose(), "pkce-verifier-kept-secret");

    let stale = Digest::of("state-3");
    members
        .begin(&stale, &pending(None, now()), earlier())
        .await
        .unwrap();
    assert_eq!(store.rows().await[3], 1);
    assert_eq!(members.take(&stale, now()).await.unwrap(), None);
    assert_eq!(store.rows().await[3], 0, "an expired sign-in is deleted");
    members
        .begin(&stale, &pending(None, now()), earlier())
        .await
        .unwrap();
    members
        .begin(&Digest::of("state-4"), &pending(None, later), now())
        .await
        .unwrap();
    assert_eq!(store.rows().await[3], 1, "one begun drops those expired");
    members.take(&Digest::of("state-4"), now()).await.unwrap();

    for n in 0..8 {
        let state = Digest::of(&format!("raced-{n}"));
        members
            .begin(&state, &pending(None, later), earlier())
            .await
            .unwrap();
        let (a, b) = tokio::join!(members.take(&state, now()), members.take(&state, now()));
        let got = [a.unwrap(), b.unwrap()];
        assert_eq!(got.iter().filter(|t| t.is_some()).count(), 1, "{got:?}");
    }
}

/// Linking makes the member, replaces the account's link and the network's, and keeps the
/// member's consent; their tokens come back by handle.
async fn links(store: Store) {
    let members = &store.members;
    let github = account(Network::GitHub, "1", "Ada");
    members
        .link(&link(&github, token("gho_first", None, None)))
        .await
        .unwrap();
    let ada = members.member(&handle("ada")).await.unwrap().unwrap();
    assert_eq!(ada.handle.as_str(), "Ada");
    assert_eq!(ada.accounts, vec![github.clone()]);
    assert!(!ada.hidden_organisations);
    assert!(
        members
            .set_hidden_organisations(&handle("ADA"), true)
            .await
            .unwrap()
    );
    assert!(
        !members
            .set_hidden_organisations(&handle("nobody"), true)
            .await
            .unwrap()
    );

    // The same account again: its token replaced, the consent kept.
    members
        .link(&link(&github, token("gho_second", None, None)))
        .await
        .unwrap();
    // Another GitHub account for the same member: it replaces the first.
    let other = account(Network::GitHub, "2", "ada");
    let expires = Some(now() + Duration::hours(2));
    members
        .link(&link(
            &other,
            token("gho_third", Some("ghr_refresh"), expires),
        ))
        .await
        .unwrap();
    let x = account(Network::X, "77", "Ada");
    members
        .link(&link(&x, token("x_access", Some("x_refresh"), expires)))
        .await
        .unwrap();
    let ada = members.member(&handle("Ada")).await.unwrap().unwrap();
    assert_eq!(ada.account(Network::GitHub), Some(&other));
    assert_eq!(ada.account(Network::X), Some(&x));
    assert_eq!(ada.accounts.len(), 2);
    assert!(ada.hidden_organisations, "the consent is kept");

    let found = members
        .credentials(&[&handle("ADA"), &handle("ada")], Network::GitHub)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].account, other);
    assert_eq!(
        found[0].token,
        token("gho_third", Some("ghr_refresh"), expires)
    );
    assert!(found[0].hidden_organisations);

    // The account renamed at GitHub, signed in under its new handle: the link moves.
    let renamed = account(Network::GitHub, "2", "Lovelace");
    members
        .link(&link(&renamed, token("gho_fourth", None, None)))
        .await
        .unwrap();
    let ada = members.member(&handle("ada")).await.unwrap().unwrap();
    assert_eq!(ada.account(Network::GitHub), None);
    let lovelace = members.member(&handle("lovelace")).await.unwrap().unwrap();
    assert_eq!(lovelace.accounts, vec![renamed]);
    assert!(!lovelace.hidden_organisations);
    assert_eq!(store.rows().await[..2], [2, 2]);
}

/// A session is read while valid, not after, and not once closed.
async fn sessions(store: Store) {
    let members = &store.members;
    let github = account(Network::GitHub, "1", "Ada");
    members
        .link(&link(&github, token("gho", None, None)))
        .await
        .unwrap();
    let cookie = Digest::of("cookie-1");
    let until = now() + Duration::hours(1);
    members
        .open_session(&cookie, &handle("ada"), until)
        .await
        .unwrap();
    let found = members.session(&cookie, now()).await.unwrap().unwrap();
    assert_eq!(found.as_str(), "Ada");
    assert_eq!(members.session(&Digest::of("other"), now()).await, Ok(None));
    assert_eq!(members.session(&cookie, until).await, Ok(None));
    assert_eq!(store.rows().await[2], 0, "an expired session is deleted");
    assert_eq!(members.session(&cookie, now()).await, Ok(None));

    let cookie = Digest::of("cookie-2");
    members
        .open_session(&cookie, &handle("Ada"), until)
        .await
        .unwrap();
    assert!(members.session(&cookie, now()).await.unwrap().is_some());
    members.close_session(&cookie).await.unwrap();
    assert_eq!(members.session(&cookie, now()).await, Ok(None));
}

/// Tokens for several handles at once, renewed while linked, and dropped when unlinked.
async fn tokens(store: Store) {
    let members = &store.members;
    let ada = account(Network::GitHub, "1", "Ada");
    let grace = account(Network::GitHub, "2", "Grace");
    let grace_x = account(Network::X, "3", "Grace");
    for (account, access) in [
        (&ada, "gho_ada"),
        (&grace, "gho_grace"),
        (&grace_x, "x_grace"),
    ] {
        members
            .link(&link(account, token(access, None, None)))
            .await
            .unwrap();
    }
    let asked = [&handle("ada"), &handle("Grace"), &handle("nobody")];
    let mut found = members.credentials(&asked, Network::GitHub).await.unwrap();
    found.sort_by(|a, b| a.account.id.cmp(&b.account.id));
    let accounts: Vec<_> = found.iter().map(|c| c.account.clone()).collect();
    assert_eq!(accounts, vec![ada.clone(), grace.clone()]);
    assert_eq!(found[1].token.access.expose(), "gho_grace");
    let on_x = members.credentials(&asked, Network::X).await.unwrap();
    assert_eq!(on_x.len(), 1);
    assert_eq!(on_x[0].account, grace_x);
    assert!(
        members
            .credentials(&[], Network::GitHub)
            .await
            .unwrap()
            .is_empty()
    );

    let renewed = token("x_renewed", Some("x_refresh_2"), Some(now()));
    assert!(members.renew(&grace_x, &renewed).await.unwrap());
    let on_x = members.credentials(&asked, Network::X).await.unwrap();
    assert_eq!(on_x[0].token, renewed);
    let gone = account(Network::X, "404", "Grace");
    assert!(!members.renew(&gone, &renewed).await.unwrap());
    assert_eq!(store.rows().await[1], 3, "nothing was written");

    members.unlink(&grace_x).await.unwrap();
    assert!(
        members
            .credentials(&asked, Network::X)
            .await
            .unwrap()
            .is_empty()
    );
    let grace = members.member(&handle("grace")).await.unwrap().unwrap();
    assert_eq!(grace.account(Network::X), None);
    assert_eq!(grace.accounts.len(), 1);
}

/// Forgetting deletes every row of the member's and returns their links, tokens and all;
/// another member's rows stay.
async fn forgetting(store: Store) {
    let members = &store.members;
    let github = link(
        &account(Network::GitHub, "1", "Ada"),
        token("gho_ada", None, None),
    );
    let x = link(
        &account(Network::X, "2", "ada"),
        token("x_ada", Some("x_refresh"), Some(now())),
    );
    let grace = link(
        &account(Network::GitHub, "3", "Grace"),
        token("gho_grace", None, None),
    );
    let later = now() + Duration::hours(1);
    for (n, (link, who)) in [(&github, "Ada"), (&x, "Ada"), (&grace, "Grace")]
        .into_iter()
        .enumerate()
    {
        members.link(link).await.unwrap();
        let cookie = Digest::of(&format!("cookie-{n}"));
        members
            .open_session(&cookie, &handle(who), later)
            .await
            .unwrap();
        let state = Digest::of(&format!("state-{n}"));
        members
            .begin(&state, &pending(Some(who), later), earlier())
            .await
            .unwrap();
    }
    members
        .begin(&Digest::of("anonymous"), &pending(None, later), earlier())
        .await
        .unwrap();
    assert_eq!(store.rows().await, [2, 3, 3, 4]);

    let mut forgotten = members.forget(&handle("ADA")).await.unwrap().links;
    forgotten.sort_by(|a, b| a.account.id.cmp(&b.account.id));
    assert_eq!(forgotten, vec![github, x]);
    assert_eq!(store.rows().await, [1, 1, 1, 2]);
    assert_eq!(members.member(&handle("ada")).await, Ok(None));
    assert!(members.member(&handle("grace")).await.unwrap().is_some());
    assert_eq!(members.forget(&handle("ada")).await, Ok(Forgot::default()));
}

/// Under another key the tokens cannot be read, and it says so.
async fn another_key(url: &str) {
    let store = Store::open(url, cipher()).await;
    let ada = account(Network::GitHub, "1", "Ada");
    store
        .members
        .link(&link(&ada, token("gho_ada", None, None)))
        .await
        .unwrap();
    let other = Store::open(url, TokenCipher::new([7; 32])).await;
    let error = other
        .members
        .credentials(&[&handle("ada")], Network::GitHub)
        .await
        .unwrap_err();
    let MembersError::Unavailable(why) = error;
    assert!(why.reason().contains("cannot be decrypted"), "{why}");
    assert!(why.reason().contains("TOKEN_KEY"), "{why}");
    assert_eq!(other.rows().await[1], 1, "nothing was deleted");
    // Forgotten all the same: the rows go, and the account is said unreadable.
    let forgot = other.members.forget(&handle("ada")).await.unwrap();
    assert_eq!(forgot.links, vec![]);
    assert_eq!(forgot.unreadable, vec![ada]);
    assert_eq!(other.rows().await, [0, 0, 0, 0]);
}

macro_rules! on_both {
    ($story:ident, $sqlite:ident, $postgres:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            let dir = tempfile::tempdir().unwrap();
            $story(Store::open(&sqlite_url(&dir), cipher()).await).await;
        }

        #[tokio::test]
        async fn $postgres() {
            let Some(db) = TestDatabase::create().await else {
                return;
            };
            $story(Store::open(&db.url, cipher()).await).await;
        }
    };
}

on_both!(
    sign_ins,
    sqlite_sign_ins_are_taken_once,
    postgres_sign_ins_are_taken_once
);
on_both!(
    links,
    sqlite_links_replace_and_keep_consent,
    postgres_links_replace_and_keep_consent
);
on_both!(
    sessions,
    sqlite_sessions_expire_and_close,
    postgres_sessions_expire_and_close
);
on_both!(
    tokens,
    sqlite_tokens_by_handle_renew_and_unlink,
    postgres_tokens_by_handle_renew_and_unlink
);
on_both!(
    forgetting,
    sqlite_forgetting_leaves_no_row,
    postgres_forgetting_leaves_no_row
);

#[tokio::test]
async fn sqlite_tokens_under_another_key_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    another_key(&sqlite_url(&dir)).await;
}

#[tokio::test]
async fn postgres_tokens_under_another_key_are_refused() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    another_key(&db.url).await;
}

/// Neither the SQLite file nor its write-ahead log holds a token, a verifier, a `state` or a
/// cookie in clear, while what is kept in clear (a handle) is found there.
#[tokio::test]
async fn sqlite_files_hold_no_token_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&sqlite_url(&dir), cipher()).await;
    let members = &store.members;
    let expires = Some(now() + Duration::hours(1));
    let ada = account(Network::X, "1234", "HandleInClear");
    members
        .link(&link(
            &ada,
            token("ACCESS-SECRET-1", Some("REFRESH-SECRET-1"), expires),
        ))
        .await
        .unwrap();
    let renewed = token("ACCESS-SECRET-2", Some("REFRESH-SECRET-2"), expires);
    assert!(members.renew(&ada, &renewed).await.unwrap());
    let mut begun = pending(Some("HandleInClear"), now() + Duration::minutes(10));
    begun.verifier = Secret::new("VERIFIER-SECRET-1");
    begun.browser = Digest::of("BROWSER-COOKIE-1");
    members
        .begin(&Digest::of("STATE-SECRET-1"), &begun, earlier())
        .await
        .unwrap();
    let cookie = Digest::of("SESSION-COOKIE-1");
    members
        .open_session(
            &cookie,
            &handle("HandleInClear"),
            now() + Duration::hours(1),
        )
        .await
        .unwrap();

    let mut bytes = std::fs::read(dir.path().join("members.db")).unwrap();
    let wal = std::fs::read(dir.path().join("members.db-wal")).unwrap();
    assert!(!wal.is_empty(), "the writes are in the write-ahead log");
    bytes.extend(wal);
    let holds = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(holds("HandleInClear"), "the search finds what is in clear");
    for secret in [
        "ACCESS-SECRET-1",
        "ACCESS-SECRET-2",
        "REFRESH-SECRET-1",
        "REFRESH-SECRET-2",
        "VERIFIER-SECRET-1",
        "STATE-SECRET-1",
        "BROWSER-COOKIE-1",
        "SESSION-COOKIE-1",
    ] {
        assert!(!holds(secret), "{secret} is in the database's files");
    }
}
