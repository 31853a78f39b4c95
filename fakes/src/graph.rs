//! The world the fakes describe: who is where, in which organisations, following whom.

use std::collections::{BTreeMap, HashMap, HashSet};

/// Who is where, who belongs to what and who follows whom.
#[derive(Clone, Default)]
pub struct Graph {
    /// lower-cased login → (login as GitHub spells it, id, organisations)
    pub(crate) github: BTreeMap<String, (String, u64, Vec<String>)>,
    /// lower-cased username → (username, id)
    pub(crate) x: BTreeMap<String, (String, String)>,
    /// follower id → followee ids, oldest first; filler ids are users nobody knows.
    pub(crate) following: HashMap<String, Vec<String>>,
    /// followee id → extra follower ids (filler), so a followers list can be long.
    pub(crate) extra_followers: HashMap<String, Vec<String>>,
    /// X ids of protected accounts: their own follow lists cannot be read with an app-only
    /// token.
    pub(crate) protected: HashSet<String>,
    /// lower-cased GitHub login → organisations it belongs to without showing it.
    pub(crate) hidden: BTreeMap<String, Vec<String>>,
    /// lower-cased names of GitHub organisations that restrict OAuth App access and have not
    /// approved the app.
    pub(crate) restricted: HashSet<String>,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    /// A developer on both networks with these organisations, following these users.
    pub fn dev(self, name: &str, orgs: &[&str], follows: &[&str]) -> Self {
        self.github(name, orgs).x(name, follows)
    }

    /// A GitHub user only.
    pub fn github(mut self, login: &str, orgs: &[&str]) -> Self {
        let id = 100 + self.github.len() as u64;
        self.github.insert(
            login.to_lowercase(),
            (
                login.to_owned(),
                id,
                orgs.iter().map(|s| s.to_string()).collect(),
            ),
        );
        self
    }

    /// `login` belongs to `org` without showing it (added to GitHub if new): the app's token
    /// never sees it; only the member's own token does, in `/user/orgs` and org-membership
    /// checks.
    pub fn hidden(mut self, login: &str, org: &str) -> Self {
        if !self.github.contains_key(&login.to_lowercase()) {
            self = self.github(login, &[]);
        }
        let orgs = self.hidden.entry(login.to_lowercase()).or_default();
        orgs.push(org.to_owned());
        self
    }

    /// `org` restricts OAuth App access and has not approved the app: a member's token does
    /// not see it in `/user/orgs` nor through it.
    pub fn restrict_oauth(mut self, org: &str) -> Self {
        self.restricted.insert(org.to_lowercase());
        self
    }

    /// An X user only, following these usernames (added to X if new).
    pub fn x(mut self, username: &str, follows: &[&str]) -> Self {
        let id = self.x_id(username);
        for followee in follows {
            let followee = self.x_id(followee);
            self.following.entry(id.clone()).or_default().push(followee);
        }
        self
    }

    fn x_id(&mut self, username: &str) -> String {
        let next = format!("{}", 2000 + self.x.len());
        self.x
            .entry(username.to_lowercase())
            .or_insert_with(|| (username.to_owned(), next))
            .1
            .clone()
    }

    /// Makes `username` follow `n` more unknown accounts, placed before its real follows
    /// (so a real follow sits on a later page).
    pub fn pad_following(mut self, username: &str, n: usize) -> Self {
        let id = self.x_id(username);
        let filler = (0..n).map(|i| format!("9{id}{i:07}"));
        let list = self.following.entry(id.clone()).or_default();
        let real = std::mem::take(list);
        list.extend(filler);
        list.extend(real);
        self
    }

    /// Makes `username` a protected account on X (added to X if new).
    pub fn protect(mut self, username: &str) -> Self {
        let id = self.x_id(username);
        self.protected.insert(id);
        self
    }

    /// Gives `username` `n` more unknown followers, placed before its real followers.
    pub fn pad_followers(mut self, username: &str, n: usize) -> Self {
        let id = self.x_id(username);
        let filler = (0..n).map(|i| format!("8{id}{i:07}")).collect();
        self.extra_followers.insert(id, filler);
        self
    }

    /// A GitHub user's organisations, public ones first, then hidden ones when asked for.
    pub(crate) fn github_orgs(&self, login: &str, with_hidden: bool) -> Vec<String> {
        let login = login.to_lowercase();
        let public = self.github.get(&login).map(|(_, _, orgs)| orgs.clone());
        let hidden = self.hidden.get(&login).filter(|_| with_hidden);
        let mut orgs = public.unwrap_or_default();
        orgs.extend(hidden.into_iter().flatten().cloned());
        orgs
    }

    /// Whether GitHub user `login` belongs to `org`: `Some(true)` publicly, `Some(false)`
    /// hidden, `None` not at all.
    pub(crate) fn membership(&self, login: &str, org: &str) -> Option<bool> {
        let login = login.to_lowercase();
        let has = |orgs: &Vec<String>| orgs.iter().any(|o| o.eq_ignore_ascii_case(org));
        if self
            .github
            .get(&login)
            .is_some_and(|(_, _, orgs)| has(orgs))
        {
            Some(true)
        } else if self.hidden.get(&login).is_some_and(has) {
            Some(false)
        } else {
            None
        }
    }

    /// Whether some GitHub user belongs to `org`, publicly or not.
    pub(crate) fn org_exists(&self, org: &str) -> bool {
        self.github
            .keys()
            .any(|login| self.membership(login, org).is_some())
    }

    /// Whether this X id is a user of the graph.
    pub(crate) fn knows_x_id(&self, id: &str) -> bool {
        self.x.values().any(|(_, uid)| uid == id)
    }

    /// The X username of this id, if it is a user of the graph.
    pub(crate) fn x_username(&self, id: &str) -> Option<&str> {
        self.x
            .values()
            .find(|(_, uid)| uid == id)
            .map(|(username, _)| username.as_str())
    }

    /// The X ids this X id follows, oldest first.
    pub(crate) fn followees(&self, id: &str) -> &[String] {
        self.following.get(id).map_or(&[], Vec::as_slice)
    }

    /// Whether X id `a` follows X id `b`.
    pub(crate) fn follows(&self, a: &str, b: &str) -> bool {
        self.followees(a).iter().any(|f| f == b)
    }

    /// Whether GitHub user `a` follows GitHub user `b`: both on GitHub, and `a` follows `b` on
    /// X under the same handles.
    pub(crate) fn follows_on_github(&self, a: &str, b: &str) -> bool {
        let on_github = |h: &str| self.github.contains_key(&h.to_lowercase());
        let x_id = |h: &str| self.x.get(&h.to_lowercase()).map(|(_, id)| id);
        on_github(a)
            && on_github(b)
            && match (x_id(a), x_id(b)) {
                (Some(a), Some(b)) => self.follows(a, b),
                _ => false,
            }
    }

    /// The X ids that follow this X id: the filler first, then the graph's, in id order.
    pub(crate) fn followers(&self, id: &str) -> Vec<String> {
        let mut list = self.extra_followers.get(id).cloned().unwrap_or_default();
        let mut followers: Vec<&String> = self
            .following
            .iter()
            .filter(|(_, followees)| followees.iter().any(|f| f == id))
            .map(|(follower, _)| follower)
            .collect();
        followers.sort();
        list.extend(followers.into_iter().cloned());
        list
    }
}
