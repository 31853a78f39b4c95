//! Members' tokens encrypted at rest: XChaCha20-Poly1305 under the key `TOKEN_KEY` names, a
//! fresh random nonce for each encryption, and each ciphertext bound to the row it belongs
//! to, so that one copied to another row (another account, the refresh token's place) does
//! not decrypt.

use super::Secret;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// The length of a nonce, written before each ciphertext.
const NONCE_LEN: usize = 24;

/// The length of the key, in bytes.
const KEY_LEN: usize = 32;

/// Encrypts and decrypts members' tokens under one key. Each ciphertext is stored as text:
/// base64 of the nonce then the ciphertext (its tag included).
#[derive(Clone)]
pub struct TokenCipher {
    aead: XChaCha20Poly1305,
}

/// Why `TOKEN_KEY` is not a key. Never repeats the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenKeyError {
    #[error("TOKEN_KEY is not base64 (make one with `openssl rand -base64 32`)")]
    NotBase64,
    #[error(
        "TOKEN_KEY must be {KEY_LEN} bytes, written in base64 (make one with `openssl rand -base64 32`); it is {0} bytes"
    )]
    WrongLength(usize),
}

/// Why a token could not be encrypted or decrypted. Says nothing of the token or the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// Another key, bytes changed, or a ciphertext moved from another row.
    #[error("a stored token cannot be decrypted (was it encrypted under another TOKEN_KEY?)")]
    Undecryptable,
    /// The system gave no randomness for a nonce, or the token is too long to encrypt.
    #[error("a token cannot be encrypted: {0}")]
    Unencryptable(String),
}

impl TokenCipher {
    /// The cipher of `key`'s 32 bytes.
    pub fn new(key: [u8; KEY_LEN]) -> Self {
        Self {
            aead: XChaCha20Poly1305::new(&key.into()),
        }
    }

    /// The cipher of a key written in base64, standard or URL-safe, padded or not (as
    /// `openssl rand -base64 32` prints one); spaces around it are ignored.
    ///
    /// # Errors
    /// [`TokenKeyError`] when it is not base64 or not 32 bytes.
    pub fn from_base64(key: &str) -> Result<Self, TokenKeyError> {
        let key = key.trim().trim_end_matches('=');
        let bytes = STANDARD_NO_PAD
            .decode(key)
            .or_else(|_| URL_SAFE_NO_PAD.decode(key))
            .map_err(|_| TokenKeyError::NotBase64)?;
        let key: [u8; KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| TokenKeyError::WrongLength(bytes.len()))?;
        Ok(Self::new(key))
    }

    /// `plain` encrypted for the row `context` names, as it is stored.
    ///
    /// # Errors
    /// [`CipherError::Unencryptable`] when the system gives no randomness.
    pub fn encrypt(&self, plain: &Secret, context: &str) -> Result<String, CipherError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce)
            .map_err(|e| CipherError::Unencryptable(format!("no randomness for a nonce: {e}")))?;
        let payload = Payload {
            msg: plain.expose().as_bytes(),
            aad: context.as_bytes(),
        };
        let sealed = self
            .aead
            .encrypt(&XNonce::from(nonce), payload)
            .map_err(|_| CipherError::Unencryptable("the token is too long".to_owned()))?;
        let mut stored = Vec::with_capacity(NONCE_LEN + sealed.len());
        stored.extend_from_slice(&nonce);
        stored.extend_from_slice(&sealed);
        Ok(STANDARD.encode(stored))
    }

    /// The token `stored` holds, when it was encrypted under this key for the row `context`
    /// names.
    ///
    /// # Errors
    /// [`CipherError::Undecryptable`] when it was not, or its bytes changed.
    pub fn decrypt(&self, stored: &str, context: &str) -> Result<Secret, CipherError> {
        let bytes = STANDARD
            .decode(stored)
            .map_err(|_| CipherError::Undecryptable)?;
        let (nonce, sealed) = bytes
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(CipherError::Undecryptable)?;
        let payload = Payload {
            msg: sealed,
            aad: context.as_bytes(),
        };
        let plain = self
            .aead
            .decrypt(&XNonce::from(*nonce), payload)
            .map_err(|_| CipherError::Undecryptable)?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| CipherError::Undecryptable)
    }
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "q2yJ0mR0c8p3bHc1Tq3uJ0gk1wq9m8s7Y6x5W4v3U2s=";

    fn cipher() -> TokenCipher {
        TokenCipher::from_base64(KEY).unwrap()
    }

    #[test]
    fn a_token_comes_back_as_it_went_in_and_is_not_in_what_is_stored() {
        let token = Secret::new("gho_the_token");
        let stored = cipher().encrypt(&token, "github:42:access").unwrap();
        assert!(!stored.contains("gho_the_token"));
        assert_eq!(
            cipher().decrypt(&stored, "github:42:access").unwrap(),
            token
        );
    }

    #[test]
    fn each_encryption_has_a_fresh_nonce() {
        let token = Secret::new("gho_the_token");
        let first = cipher().encrypt(&token, "github:42:access").unwrap();
        let second = cipher().encrypt(&token, "github:42:access").unwrap();
        assert_ne!(first, second);
        let nonce = |s: &str| STANDARD.decode(s).unwrap()[..NONCE_LEN].to_vec();
        assert_ne!(nonce(&first), nonce(&second));
    }

    #[test]
    fn another_key_cannot_decrypt() {
        let stored = cipher()
            .encrypt(&Secret::new("gho_the_token"), "github:42:access")
            .unwrap();
        let other = TokenCipher::new([7; KEY_LEN]);
        let error = other.decrypt(&stored, "github:42:access").unwrap_err();
        assert_eq!(error, CipherError::Undecryptable);
        assert!(error.to_string().contains("another TOKEN_KEY"));
    }

    #[test]
    fn changed_bytes_do_not_decrypt() {
        let stored = cipher()
            .encrypt(&Secret::new("gho_the_token"), "github:42:access")
            .unwrap();
        let mut bytes = STANDARD.decode(&stored).unwrap();
        for at in [0, NONCE_LEN, bytes.len() - 1] {
            bytes[at] ^= 1;
            let tampered = STANDARD.encode(&bytes);
            assert_eq!(
                cipher().decrypt(&tampered, "github:42:access"),
                Err(CipherError::Undecryptable)
            );
            bytes[at] ^= 1;
        }
        let short = STANDARD.encode(&bytes[..NONCE_LEN - 1]);
        assert!(cipher().decrypt(&short, "github:42:access").is_err());
        assert!(cipher().decrypt("not base64!", "github:42:access").is_err());
    }

    #[test]
    fn a_ciphertext_moved_to_another_row_does_not_decrypt() {
        let stored = cipher()
            .encrypt(&Secret::new("gho_the_token"), "github:42:access")
            .unwrap();
        for other in ["github:43:access", "github:42:refresh", "x:42:access"] {
            assert_eq!(
                cipher().decrypt(&stored, other),
                Err(CipherError::Undecryptable)
            );
        }
    }

    #[test]
    fn a_key_is_read_in_every_base64_alphabet_with_or_without_padding() {
        let bytes: [u8; KEY_LEN] = std::array::from_fn(|i| (i * 8 + 3) as u8 | 0xf8);
        let stored = TokenCipher::new(bytes)
            .encrypt(&Secret::new("t"), "x:1:access")
            .unwrap();
        let written = [
            STANDARD.encode(bytes),
            STANDARD_NO_PAD.encode(bytes),
            base64::engine::general_purpose::URL_SAFE.encode(bytes),
            URL_SAFE_NO_PAD.encode(bytes),
            format!(" {}\n", STANDARD.encode(bytes)),
        ];
        assert!(written[0].contains('+') || written[0].contains('/'));
        for key in written {
            let cipher = TokenCipher::from_base64(&key).unwrap();
            assert_eq!(cipher.decrypt(&stored, "x:1:access").unwrap().expose(), "t");
        }
    }

    #[test]
    fn a_bad_key_is_refused_with_what_to_do() {
        let short = TokenCipher::from_base64(&STANDARD.encode([1u8; 16])).unwrap_err();
        assert_eq!(short, TokenKeyError::WrongLength(16));
        assert!(short.to_string().contains("must be 32 bytes"));
        assert!(short.to_string().contains("openssl rand -base64 32"));
        let long = TokenCipher::from_base64(&STANDARD.encode([1u8; 33])).unwrap_err();
        assert_eq!(long, TokenKeyError::WrongLength(33));
        for bad in ["not base64 at all!", "é", "+-+-"] {
            let error = TokenCipher::from_base64(bad).unwrap_err();
            assert_eq!(error, TokenKeyError::NotBase64);
            assert!(!error.to_string().contains(bad));
        }
        assert_eq!(
            TokenCipher::from_base64("").unwrap_err(),
            TokenKeyError::WrongLength(0)
        );
    }

    #[test]
    fn debug_shows_nothing_of_the_key() {
        let shown = format!("{:?}", cipher());
        assert_eq!(shown, "TokenCipher([redacted])");
        assert!(!shown.contains(&KEY[..8]));
    }
}
