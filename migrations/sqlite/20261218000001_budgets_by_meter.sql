-- A key's budgets and what it spent are rows by meter (a network and the unit it is counted
-- in), no longer a column each: a network billed anew needs no migration. The service checks
-- the names it knows; the tables keep only their shape. Every cap and every day's spending is
-- moved to the new rows, then the old columns are dropped (`requests` stays where it was).
CREATE TABLE api_key_budgets (
    key_id  TEXT    NOT NULL REFERENCES api_keys (id),
    network TEXT    NOT NULL
            CHECK (length(network) BETWEEN 1 AND 32 AND network NOT GLOB '*[^a-z0-9_]*'),
    unit    TEXT    NOT NULL
            CHECK (length(unit) BETWEEN 1 AND 32 AND unit NOT GLOB '*[^a-z0-9_]*'),
    -- The period it is counted over: 'hour' or 'day' (a UTC hour or day).
    per     TEXT    NOT NULL
            CHECK (length(per) BETWEEN 1 AND 32 AND per NOT GLOB '*[^a-z0-9_]*'),
    amount  INTEGER NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (key_id, network, unit, per)
) STRICT;

-- What each key spent on each meter each UTC day (YYYY-MM-DD).
CREATE TABLE api_key_spend (
    key_id  TEXT    NOT NULL REFERENCES api_keys (id),
    day     TEXT    NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    network TEXT    NOT NULL
            CHECK (length(network) BETWEEN 1 AND 32 AND network NOT GLOB '*[^a-z0-9_]*'),
    unit    TEXT    NOT NULL
            CHECK (length(unit) BETWEEN 1 AND 32 AND unit NOT GLOB '*[^a-z0-9_]*'),
    used    INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (key_id, day, network, unit)
) STRICT;

INSERT INTO api_key_budgets (key_id, network, unit, per, amount)
SELECT id, 'x', 'users', 'day', x_users_per_day FROM api_keys WHERE x_users_per_day IS NOT NULL;
INSERT INTO api_key_budgets (key_id, network, unit, per, amount)
SELECT id, 'github', 'calls', 'hour', github_calls_per_hour FROM api_keys
WHERE github_calls_per_hour IS NOT NULL;

INSERT INTO api_key_spend (key_id, day, network, unit, used)
SELECT key_id, day, 'x', 'users', x_users FROM api_key_usage WHERE x_users > 0;
INSERT INTO api_key_spend (key_id, day, network, unit, used)
SELECT key_id, day, 'github', 'calls', github_calls FROM api_key_usage WHERE github_calls > 0;

ALTER TABLE api_keys DROP COLUMN x_users_per_day;
ALTER TABLE api_keys DROP COLUMN github_calls_per_hour;
ALTER TABLE api_key_usage DROP COLUMN x_users;
ALTER TABLE api_key_usage DROP COLUMN github_calls;
