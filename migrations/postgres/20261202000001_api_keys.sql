-- API keys: a public id to find one by, a name for people, the SHA-256 of its secret (never
-- the secret), what it may do and how much, and when it was made, last used and revoked
-- (milliseconds since the epoch, UTC: the same columns as SQLite's, so that one store serves
-- both).
CREATE TABLE api_keys (
    id                    TEXT PRIMARY KEY CHECK (id ~ '^[a-z0-9]{12}$'),
    name                  TEXT NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
    secret_sha256         TEXT NOT NULL CHECK (secret_sha256 ~ '^[0-9a-f]{64}$'),
    scopes                TEXT NOT NULL CHECK (scopes <> ''),
    rate_requests         BIGINT NOT NULL CHECK (rate_requests > 0),
    rate_period_seconds   BIGINT NOT NULL CHECK (rate_period_seconds IN (1, 60, 3600, 86400)),
    x_users_per_day       BIGINT CHECK (x_users_per_day >= 0),
    github_calls_per_hour BIGINT CHECK (github_calls_per_hour >= 0),
    created_at_ms         BIGINT NOT NULL,
    last_used_at_ms       BIGINT,
    revoked_at_ms         BIGINT
);

-- What each key spent each UTC day (YYYY-MM-DD): the audit of who spent what.
CREATE TABLE api_key_usage (
    key_id       TEXT NOT NULL REFERENCES api_keys (id),
    day          TEXT NOT NULL CHECK (day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    requests     BIGINT NOT NULL DEFAULT 0 CHECK (requests >= 0),
    x_users      BIGINT NOT NULL DEFAULT 0 CHECK (x_users >= 0),
    github_calls BIGINT NOT NULL DEFAULT 0 CHECK (github_calls >= 0),
    PRIMARY KEY (key_id, day)
);
