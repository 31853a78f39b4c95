//! X's answers as they arrive, and how each is read: a lookup's users, a follow list's page.
//! An answer that is JSON but not the answer asked for is a failure, never a fact.

use crate::domain::{Handle, MemberView, Relationship, SocialGraphError, SocialUser};
use serde::Deserialize;

/// The answer of `/2/users/by`.
#[derive(Deserialize)]
pub(super) struct UsersBy {
    data: Option<Vec<User>>,
    errors: Option<Vec<Problem>>,
}

#[derive(Deserialize)]
struct User {
    id: String,
    username: String,
    #[serde(default)]
    public_metrics: Option<PublicMetrics>,
    #[serde(default)]
    protected: bool,
    /// The signed-in member's relation to this user (under a member's token only), X's
    /// words; absent when there is none.
    #[serde(default)]
    connection_status: Option<Vec<String>>,
}

impl User {
    fn social_user(&self) -> SocialUser {
        SocialUser {
            id: self.id.clone(),
            username: self.username.clone(),
            followers: self.public_metrics.as_ref().map(|m| m.followers_count),
            following: self.public_metrics.as_ref().map(|m| m.following_count),
            protected: self.protected,
        }
    }

    /// The relationship from the member whose token asked to this user: `following` that
    /// the member follows them, `followed_by` that they follow the member; no entry, neither.
    fn member_relationship(&self) -> Relationship {
        let status = self.connection_status.as_deref().unwrap_or_default();
        let says = |word: &str| status.iter().any(|s| s == word);
        Relationship {
            forward: Some(says("following")),
            backward: Some(says("followed_by")),
        }
    }

    /// Whether it can be an X user: a username by X's rules ([`is_x_username`]) and
    /// an id of decimal digits that fits X's 64 bits. Anything else would be carried into
    /// caches, keys and messages as if X had said it.
    fn is_readable(&self) -> bool {
        Handle::parse(&self.username).is_ok_and(|h| is_x_username(&h)) && is_x_id(&self.id)
    }
}

/// Whether a handle can be an X user: an X username, 1–15 ASCII letters, digits or
/// underscores.
pub fn is_x_username(handle: &Handle) -> bool {
    let s = handle.as_str();
    !s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// An X id: 1 to 19 decimal digits.
fn is_x_id(id: &str) -> bool {
    (1..=19).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

#[derive(Deserialize)]
struct PublicMetrics {
    #[serde(default)]
    followers_count: u64,
    #[serde(default)]
    following_count: u64,
}

/// One entry of an answer's `errors`: X's problem details.
#[derive(Deserialize)]
struct Problem {
    #[serde(default)]
    value: Option<serde_json::Value>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    detail: String,
    #[serde(default, rename = "type")]
    kind: String,
}

impl Problem {
    /// Whether it says that the user it names does not exist or is suspended: the two ways
    /// the lookup says "no such user".
    fn is_missing_user(&self) -> bool {
        self.kind.ends_with("/problems/resource-not-found") || self.title == "Forbidden"
    }

    /// Whether it says the resource is private: a protected account's own lists.
    fn is_not_authorized(&self) -> bool {
        self.kind.ends_with("/problems/not-authorized-for-resource")
    }

    fn names(&self, username: &str) -> bool {
        self.value
            .as_ref()
            .and_then(serde_json::Value::as_str)
            .is_some_and(|v| v.eq_ignore_ascii_case(username))
    }

    fn summary(&self) -> String {
        let text = if self.detail.is_empty() {
            &self.title
        } else {
            &self.detail
        };
        text.chars().take(200).collect()
    }
}

/// One page of a follow list.
#[derive(Deserialize)]
pub(super) struct FollowPage {
    data: Option<Vec<ListedUser>>,
    meta: Option<Meta>,
    #[serde(default)]
    errors: Vec<Problem>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ListedUser {
    pub(super) id: String,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    result_count: Option<u64>,
    #[serde(default)]
    next_token: Option<String>,
}

/// Why a follow list gave no answer.
#[derive(Debug)]
pub(super) enum ListError {
    /// The list is private: its owner is a protected account.
    Private,
    Graph(SocialGraphError),
}

impl From<SocialGraphError> for ListError {
    fn from(error: SocialGraphError) -> Self {
        ListError::Graph(error)
    }
}

/// An answer that is JSON but not the answer asked for: a failure, never a fact.
fn unreadable(what: impl std::fmt::Display) -> SocialGraphError {
    SocialGraphError::unavailable(format!("its answer could not be read: {what}"))
}

impl UsersBy {
    /// One entry per handle, in order. Missing and suspended users are not HTTP errors: they
    /// come back in `errors`. A user is missing only when `errors` says so; one the answer
    /// does not mention at all is a failure, never "no such user".
    pub(super) fn read(
        self,
        handles: &[&Handle],
    ) -> Result<Vec<Option<SocialUser>>, SocialGraphError> {
        self.read_each(handles, User::social_user)
    }

    /// The same, each user with its relationship to the member whose token asked.
    pub(super) fn read_as_member(
        self,
        handles: &[&Handle],
    ) -> Result<Vec<Option<MemberView>>, SocialGraphError> {
        self.read_each(handles, |u| (u.social_user(), u.member_relationship()))
    }

    fn read_each<T>(
        self,
        handles: &[&Handle],
        read: impl Fn(&User) -> T,
    ) -> Result<Vec<Option<T>>, SocialGraphError> {
        if self.data.is_none() && self.errors.is_none() {
            return Err(unreadable("neither users nor errors"));
        }
        let (data, errors) = (
            self.data.unwrap_or_default(),
            self.errors.unwrap_or_default(),
        );
        if let Some(user) = data.iter().find(|u| !u.is_readable()) {
            return Err(unreadable(format_args!(
                "a user {:?} with id {:?} cannot be an X user",
                user.username.chars().take(20).collect::<String>(),
                user.id.chars().take(20).collect::<String>()
            )));
        }
        handles
            .iter()
            .map(|handle| Ok(user_named(&data, &errors, handle.as_str())?.map(&read)))
            .collect()
    }
}

/// The user the answer gives for `name`, `None` when its `errors` say there is none.
fn user_named<'a>(
    data: &'a [User],
    errors: &[Problem],
    name: &str,
) -> Result<Option<&'a User>, SocialGraphError> {
    if let Some(u) = data.iter().find(|u| u.username.eq_ignore_ascii_case(name)) {
        return Ok(Some(u));
    }
    match errors.iter().find(|p| p.names(name)) {
        Some(problem) if problem.is_missing_user() => Ok(None),
        Some(problem) => Err(unreadable(format_args!(
            "an error about {name}: {}",
            problem.summary()
        ))),
        None => Err(unreadable(format_args!("{name} is not mentioned"))),
    }
}

impl FollowPage {
    /// The users on the page and the next page's token. A page says what it is (`meta`);
    /// `data` is absent only when the page is empty. Anything else is not an answer: a
    /// protected account's authorisation error, or a failure.
    pub(super) fn read(self) -> Result<(Vec<ListedUser>, Option<String>), ListError> {
        match (self.meta, self.data) {
            (Some(meta), Some(data)) => Ok((data, meta.next_token)),
            (Some(meta), None) if meta.result_count == Some(0) => Ok((Vec::new(), meta.next_token)),
            (Some(meta), None) => Err(unreadable(format_args!(
                "a page of {} users lists none",
                meta.result_count
                    .map_or_else(|| "an unknown number of".to_owned(), |n| n.to_string())
            ))
            .into()),
            (None, _) if self.errors.iter().any(Problem::is_not_authorized) => {
                Err(ListError::Private)
            }
            (None, _) => Err(unreadable(match self.errors.first() {
                Some(problem) => format!("no page, only an error: {}", problem.summary()),
                None => "no page (neither `data` nor `meta`)".to_owned(),
            })
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_usernames_follow_xs_rules() {
        let h = |s: &str| Handle::parse(s).unwrap();
        for ok in ["a", "jack", "Foo_Bar_1", "_", &"x".repeat(15)] {
            assert!(is_x_username(&h(ok)), "{ok} should be a valid username");
        }
        for bad in ["a-b", "a.b", "é", &"x".repeat(16), "a b"] {
            assert!(
                !is_x_username(&h(bad)),
                "{bad} should not be a valid username"
            );
        }
    }

    fn page(body: &str) -> Result<(Vec<ListedUser>, Option<String>), ListError> {
        serde_json::from_str::<FollowPage>(body).unwrap().read()
    }

    fn h(s: &str) -> Handle {
        Handle::parse(s).unwrap()
    }

    fn lookup(body: &str) -> Result<Vec<Option<SocialUser>>, SocialGraphError> {
        serde_json::from_str::<UsersBy>(body)
            .unwrap()
            .read(&[&h("alice")])
    }

    #[test]
    fn a_user_x_cannot_have_is_not_read() {
        let found = lookup(r#"{"data": [{"id": "2001", "username": "Alice"}]}"#).unwrap();
        assert_eq!(found[0].as_ref().unwrap().id, "2001");
        let huge = "9".repeat(100_000);
        for (id, username) in [
            ("2001", "alice\u{1}"),
            ("2001", "al-ice"),
            ("2001", "alice_with_a_long_name"),
            ("12a", "alice"),
            ("", "alice"),
            (huge.as_str(), "alice"),
        ] {
            let body = serde_json::json!({"data": [
                {"id": "1", "username": "alice"},
                {"id": id, "username": username},
            ]});
            let err = lookup(&body.to_string()).unwrap_err();
            assert!(
                matches!(&err, SocialGraphError::Unavailable(u)
                    if u.reason().starts_with("its answer could not be read: a user") && u.reason().len() < 200),
                "{id:.20} {username}: {err}"
            );
        }
    }

    #[test]
    fn a_page_is_read_only_when_it_says_it_is_one() {
        let (users, next) = page(r#"{"meta": {"result_count": 0}}"#).ok().unwrap();
        assert!(users.is_empty() && next.is_none());
        let (users, next) =
            page(r#"{"data": [{"id": "1"}], "meta": {"result_count": 1, "next_token": "t"}}"#)
                .ok()
                .unwrap();
        assert_eq!((users.len(), next.as_deref()), (1, Some("t")));
        assert!(matches!(
            page(
                r#"{"errors": [{"title": "Authorization Error", "type": "https://api.twitter.com/2/problems/not-authorized-for-resource"}]}"#
            ),
            Err(ListError::Private)
        ));
        for body in [
            r#"{"title":"OK","detail":"OK","type":"about:blank","status":200}"#,
            r#"{"meta": {"result_count": 2}}"#,
            r#"{"data": []}"#,
        ] {
            assert!(
                matches!(
                    page(body),
                    Err(ListError::Graph(SocialGraphError::Unavailable(_)))
                ),
                "{body}"
            );
        }
    }
}
