-- API keys: a public id to find one by, a name for people, the SHA-256 of its secret (never
-- the secret), what it may do and how much, and when it was made, last used and revoked
-- (milliseconds since the epoch, UTC).
CREATE TABLE api_keys (
    id                    TEXT PRIMARY KEY NOT NULL
                          CHECK (length(id) = 12 AND id NOT GLOB '*[^a-z0-9]*'),
    name                  TEXT NOT NULL UNIQUE
                          CHECK (length(name) BETWEEN 1 AND 64 AND name NOT GLOB '*[^-A-Za-z0-9._]*'),
    secret_sha256         TEXT NOT NULL
                          CHECK (length(secret_sha256) = 64 AND secret_sha256 NOT GLOB '*[^0-9a-f]*'),
    scopes                TEXT NOT NULL CHECK (scopes <> ''),
    rate_requests         INTEGER NOT NULL CHECK (rate_requests > 0),
    rate_period_seconds   INTEGER NOT NULL CHECK (rate_period_seconds IN (1, 60, 3600, 86400)),
    x_users_per_day       INTEGER CHECK (x_users_per_day >= 0),
    github_calls_per_hour INTEGER CHECK (github_calls_per_hour >= 0),
    created_at_ms         INTEGER NOT NULL,
    last_used_at_ms       INTEGER,
    revoked_at_ms         INTEGER
) STRICT;

-- What each key spent each UTC day (YYYY-MM-DD): the audit of who spent what.
CREATE TABLE api_key_usage (
    key_id       TEXT NOT NULL REFERENCES api_keys (id),
    day          TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    requests     INTEGER NOT NULL DEFAULT 0 CHECK (requests >= 0),
    x_users      INTEGER NOT NULL DEFAULT 0 CHECK (x_users >= 0),
    github_calls INTEGER NOT NULL DEFAULT 0 CHECK (github_calls >= 0),
    PRIMARY KEY (key_id, day)
) STRICT;
