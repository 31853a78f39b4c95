-- A key's budgets and what it spent are rows by meter (a network and the unit it is counted
-- in), no longer a column each: a network billed anew needs no migration. The service checks
-- the names it knows; the tables keep only their shape. Every cap and every day's spending is
-- moved to the new rows, then the old columns are dropped (`requests` stays where it was).
CREATE TABLE api_key_budgets (
    key_id  TEXT   NOT NULL REFERENCES api_keys (id),
    network TEXT   NOT NULL CHECK (network ~ '^[a-z0-9_]{1,32}$'),
    unit    TEXT   NOT NULL CHECK (unit ~ '^[a-z0-9_]{1,32}$'),
    -- The period it is counted over: 'hour' or 'day' (a UTC hour or day).
    per     TEXT   NOT NULL CHECK (per ~ '^[a-z0-9_]{1,32}$'),
    amount  BIGINT NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (key_id, network, unit, per)
);

-- What each key spent on each meter each UTC day (YYYY-MM-DD).
CREATE TABLE api_key_spend (
    key_id  TEXT   NOT NULL REFERENCES api_keys (id),
    day     TEXT   NOT NULL CHECK (day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    network TEXT   NOT NULL CHECK (network ~ '^[a-z0-9_]{1,32}$'),
    unit    TEXT   NOT NULL CHECK (unit ~ '^[a-z0-9_]{1,32}$'),
    used    BIGINT NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (key_id, day, network, unit)
);

INSERT INTO api_key_budgets (key_id, network, unit, per, amount)
SELECT id, 'x', 'users', 'day', x_users_per_day FROM api_keys WHERE x_users_per_day IS NOT NULL;
INSERT INTO api_key_budgets (key_id, network, unit, per, amount)
SELECT id, 'github', 'calls', 'hour', github_calls_per_hour FROM api_keys
WHERE github_calls_per_hour IS NOT NULL;

INSERT INTO api_key_spend (key_id, day, network, unit, used)
SELECT key_id, day, 'x', 'users', x_users FROM api_key_usage WHERE x_users > 0;
INSERT INTO api_key_spend (key_id, day, network, unit, used)
SELECT key_id, day, 'github', 'calls', github_calls FROM api_key_usage WHERE github_calls > 0;

ALTER TABLE api_keys DROP COLUMN x_users_per_day, DROP COLUMN github_calls_per_hour;
ALTER TABLE api_key_usage DROP COLUMN x_users, DROP COLUMN github_calls;
