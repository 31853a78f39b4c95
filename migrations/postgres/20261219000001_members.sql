-- Members: developers who signed in with GitHub or X, so that their own tokens can answer
-- about them. No token, PKCE verifier, `state` or cookie is stored in clear: tokens and
-- verifiers are encrypted (base64 of a nonce then the ciphertext, bound to their row), a
-- `state` or a cookie is kept as its SHA-256. Times are milliseconds since the epoch, UTC,
-- and the consent a 0 or 1: the same columns as SQLite's, so that one store serves both.

-- A member: their handle's lower-cased key, the handle as written, and their consent to
-- count organisations they belong to without showing it (off until they say so).
CREATE TABLE members (
    handle_key           TEXT   PRIMARY KEY CHECK (length(handle_key) BETWEEN 1 AND 100),
    handle               TEXT   NOT NULL CHECK (length(handle) BETWEEN 1 AND 100),
    hidden_organisations BIGINT NOT NULL DEFAULT 0 CHECK (hidden_organisations IN (0, 1)),
    created_at_ms        BIGINT NOT NULL
);

-- A member's account at a network and its token: one account a member and network, an
-- account linked to one member.
CREATE TABLE member_links (
    member        TEXT   NOT NULL REFERENCES members (handle_key) ON DELETE CASCADE,
    network       TEXT   NOT NULL CHECK (network IN ('github', 'x')),
    -- The network's own id of the account, which a rename does not change.
    account_id    TEXT   NOT NULL CHECK (length(account_id) BETWEEN 1 AND 64),
    handle        TEXT   NOT NULL CHECK (length(handle) BETWEEN 1 AND 100),
    access_token  TEXT   NOT NULL CHECK (length(access_token) > 0),
    refresh_token TEXT   CHECK (length(refresh_token) > 0),
    expires_at_ms BIGINT,
    scope         TEXT   NOT NULL,
    linked_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (member, network),
    UNIQUE (network, account_id)
);

-- A browser signed in: the SHA-256 of its cookie, whose session it is, until when.
CREATE TABLE member_sessions (
    session_sha256 TEXT   PRIMARY KEY CHECK (session_sha256 ~ '^[0-9a-f]{64}$'),
    member         TEXT   NOT NULL REFERENCES members (handle_key) ON DELETE CASCADE,
    expires_at_ms  BIGINT NOT NULL
);

CREATE INDEX member_sessions_by_member ON member_sessions (member);

-- A sign-in begun and not yet finished, under the SHA-256 of its `state`: the network, the
-- PKCE verifier (encrypted), the SHA-256 of the browser's sign-in cookie, and the member
-- already signed in on that browser, if any (their handle's key and as written).
CREATE TABLE member_sign_ins (
    state_sha256   TEXT   PRIMARY KEY CHECK (state_sha256 ~ '^[0-9a-f]{64}$'),
    network        TEXT   NOT NULL CHECK (network IN ('github', 'x')),
    verifier       TEXT   NOT NULL CHECK (length(verifier) > 0),
    browser_sha256 TEXT   NOT NULL CHECK (browser_sha256 ~ '^[0-9a-f]{64}$'),
    member         TEXT   CHECK (length(member) BETWEEN 1 AND 100),
    member_handle  TEXT   CHECK (length(member_handle) BETWEEN 1 AND 100),
    expires_at_ms  BIGINT NOT NULL,
    CHECK ((member IS NULL) = (member_handle IS NULL))
);

CREATE INDEX member_sign_ins_by_member ON member_sign_ins (member);
CREATE INDEX member_sign_ins_by_expiry ON member_sign_ins (expires_at_ms);
