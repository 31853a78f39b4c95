//! API keys: how one is made and shown once, how it is recognised, and what is kept of it
//! (a hash of its secret, never the secret).

use super::{KeyLimits, Meter, Scopes};
use crate::secret::Secret;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use subtle::ConstantTimeEq;

/// Every key starts with this, so that a key pasted where it should not be (a log, a
/// repository) is recognisable for what it is.
pub const KEY_PREFIX: &str = "cdk_";
/// Characters in a key's public id.
const ID_LENGTH: usize = 12;
/// Characters in a key's secret part: 32 of 62 possible each, about 190 random bits.
const SECRET_LENGTH: usize = 32;
const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A key's public id: shown in lists and logs, and used to find the key; not a secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    /// The id written `raw`, if it can be one.
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == ID_LENGTH && raw.bytes().all(|b| ID_ALPHABET.contains(&b)))
            .then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A key as it was just made: the only time its secret exists outside the caller's hands.
pub struct IssuedKey {
    pub id: KeyId,
    /// The whole key, `cdk_<id>_<secret>`, to give to the caller once.
    pub key: Secret,
    pub hash: KeyHash,
}

impl IssuedKey {
    /// A new key from the operating system's random source.
    ///
    /// # Errors
    /// When the operating system gives no random bytes.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let id = random_text(ID_ALPHABET, ID_LENGTH)?;
        let secret = random_text(SECRET_ALPHABET, SECRET_LENGTH)?;
        Ok(Self {
            id: KeyId(id.clone()),
            hash: KeyHash::of(&secret),
            key: Secret::new(format!("{KEY_PREFIX}{id}_{secret}")),
        })
    }
}

/// `length` characters drawn uniformly from `alphabet` (bytes that would favour some
/// characters are drawn again).
pub(crate) fn random_text(alphabet: &[u8], length: usize) -> Result<String, getrandom::Error> {
    let fair = 256 - 256 % alphabet.len();
    let mut text = String::with_capacity(length);
    let mut bytes = [0u8; 64];
    while text.len() < length {
        getrandom::getrandom(&mut bytes)?;
        for &b in bytes.iter().filter(|&&b| usize::from(b) < fair) {
            if text.len() == length {
                break;
            }
            text.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
        }
    }
    Ok(text)
}

/// A key as presented by a caller, split into its public id and its secret.
pub struct PresentedKey<'a> {
    pub id: KeyId,
    secret: &'a str,
}

impl<'a> PresentedKey<'a> {
    /// The parts of `raw` when it has a key's shape; `None` otherwise (nothing to look up).
    pub fn parse(raw: &'a str) -> Option<Self> {
        let rest = raw.strip_prefix(KEY_PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        let well_formed =
            secret.len() == SECRET_LENGTH && secret.bytes().all(|b| SECRET_ALPHABET.contains(&b));
        Some(Self {
            id: KeyId::parse(id)?,
            secret: well_formed.then_some(secret)?,
        })
    }

    /// Whether this is the key whose hash is `hash`, compared in constant time.
    pub fn matches(&self, hash: &KeyHash) -> bool {
        KeyHash::of(self.secret).0.ct_eq(&hash.0).into()
    }
}

/// The SHA-256 of a key's secret: enough to recognise a key with 190 random bits, useless to
/// make one.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyHash([u8; 32]);

impl KeyHash {
    fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// As stored: 64 lower-case hexadecimal digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The hash stored as `hex`, if it is one.
    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(bytes))
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHash(..)")
    }
}

/// Why a key's name is refused: what a name may hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a key's name is 1 to {} letters, digits, '.', '_' or '-'",
    KeyName::MAX_LENGTH
)]
pub struct KeyNameError;

/// A name an operator gives a key: 1 to 64 letters, digits, `.`, `_` or `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

impl KeyName {
    pub const MAX_LENGTH: usize = 64;

    /// # Errors
    /// [`KeyNameError`] when it holds anything else, or is empty or too long.
    pub fn parse(raw: &str) -> Result<Self, KeyNameError> {
        let fits = (1..=Self::MAX_LENGTH).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if fits {
            Ok(Self(raw.to_owned()))
        } else {
            Err(KeyNameError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What is kept of a key, its secret's hash apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: KeyId,
    pub name: KeyName,
    pub scopes: Scopes,
    pub limits: KeyLimits,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key as stored: what is kept of it, and its hash.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub key: ApiKey,
    pub hash: KeyHash,
}

/// What a key spent in a UTC day: its requests, and what they cost upstream by meter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    pub requests: u64,
    spent: BTreeMap<Meter, u64>,
}

impl Usage {
    /// `requests`, with nothing spent upstream yet.
    pub fn of(requests: u64) -> Self {
        Self {
            requests,
            spent: BTreeMap::new(),
        }
    }

    /// The same, `used` more spent on `meter`.
    #[must_use]
    pub fn with(mut self, meter: Meter, used: u64) -> Self {
        self.spend(meter, used);
        self
    }

    /// Counts `used` more on `meter`.
    pub fn spend(&mut self, meter: Meter, used: u64) {
        if used > 0 {
            *self.spent.entry(meter).or_default() += used;
        }
    }

    /// What was spent on `meter`.
    pub fn spent(&self, meter: Meter) -> u64 {
        self.spent.get(&meter).copied().unwrap_or(0)
    }

    /// Answers members' tokens gave, on every network.
    pub fn member_answers(&self) -> u64 {
        self.meters()
            .filter(|(meter, _)| meter.unit == super::Unit::MemberAnswers)
            .map(|(_, used)| used)
            .sum()
    }

    /// Every meter something was spent on, with what, in one order.
    pub fn meters(&self) -> impl Iterator<Item = (Meter, u64)> + '_ {
        self.spent.iter().map(|(meter, used)| (*meter, *used))
    }

    pub fn add(&mut self, other: &Usage) {
        self.requests += other.requests;
        for (meter, used) in other.meters() {
            self.spend(meter, used);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Network;
    use crate::domain::access::Unit;

    #[test]
    fn member_answers_are_added_up_over_networks_and_nothing_else() {
        let mut usage = Usage::of(1);
        usage.spend(Meter::X_USERS, 5);
        usage.spend(Meter::member_answers(Network::X), 2);
        usage.spend(Meter::member_answers(Network::GitHub), 1);
        assert_eq!(usage.member_answers(), 3);
        assert_eq!(Usage::of(1).member_answers(), 0);
        assert_eq!(Unit::from_id("member_answers"), Some(Unit::MemberAnswers));
    }

    #[test]
    fn usage_adds_up_by_meter_and_keeps_no_empty_meter() {
        let bluesky = Meter::new(Network::Bluesky, Unit::Calls);
        let mut day = Usage::of(2).with(Meter::X_USERS, 10);
        day.add(&Usage::of(1).with(Meter::X_USERS, 5).with(bluesky, 3));
        assert_eq!(day.requests, 3);
        assert_eq!(day.spent(Meter::X_USERS), 15);
        assert_eq!(day.spent(bluesky), 3);
        assert_eq!(day.spent(Meter::GITHUB_CALLS), 0);
        assert_eq!(Usage::of(0).with(Meter::GITHUB_CALLS, 0), Usage::default());
        assert_eq!(
            day.meters().collect::<Vec<_>>(),
            [(Meter::X_USERS, 15), (bluesky, 3)]
        );
    }

    #[test]
    fn a_key_is_recognised_by_its_id_and_hash_and_shown_only_once() {
        let issued = IssuedKey::generate().unwrap();
        let text = issued.key.expose().to_owned();
        assert!(text.starts_with("cdk_"));
        assert_eq!(text.len(), 4 + ID_LENGTH + 1 + SECRET_LENGTH);
        let presented = PresentedKey::parse(&text).unwrap();
        assert_eq!(presented.id, issued.id);
        assert!(presented.matches(&issued.hash));
        assert!(!format!("{:?}", issued.key).contains(&text[4..]));
        assert!(!format!("{:?}", issued.hash).contains(&issued.hash.to_hex()));
        assert_eq!(
            KeyHash::from_hex(&issued.hash.to_hex()),
            Some(issued.hash.clone())
        );

        let other = IssuedKey::generate().unwrap();
        assert_ne!(other.id, issued.id);
        let forged = format!("cdk_{}_{}", issued.id, &other.key.expose()[4 + 13..]);
        assert!(!PresentedKey::parse(&forged).unwrap().matches(&issued.hash));
    }

    #[test]
    fn only_text_of_a_keys_shape_is_looked_up() {
        let issued = IssuedKey::generate().unwrap();
        let text = issued.key.expose();
        for bad in [
            "",
            "cdk_",
            &text[..text.len() - 1],
            &format!("{text}x"),
            &text.replace("cdk_", "cdx_"),
            &text.to_uppercase(),
            "cdk_abcdefghijkl_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        ] {
            assert!(PresentedKey::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn names_are_short_and_plain() {
        assert!(KeyName::parse("ci-deploy.prod_2").is_ok());
        for bad in ["", "a b", "ключ", &"n".repeat(65), "x\n"] {
            assert!(KeyName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
