-- The same rules as PostgreSQL's: a connected verdict names at least one organisation and
-- one not connected names none, organisations are a JSON array, and the social graph is
-- one the service knows. SQLite cannot add a CHECK to a table, so it is built again with
-- them, keeping every row and its id.
CREATE TABLE checks_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    developer_a      TEXT    NOT NULL,
    developer_b      TEXT    NOT NULL,
    registered_at_ms INTEGER NOT NULL,
    connected        INTEGER NOT NULL CHECK (connected IN (0, 1)),
    -- JSON array of the shared organisations; '[]' when not connected.
    organisations    TEXT    NOT NULL DEFAULT '[]'
        CHECK (json_valid(organisations) AND json_type(organisations) = 'array'),
    social_graph     TEXT    NOT NULL DEFAULT 'x'
        CHECK (social_graph IN ('x', 'github', 'bluesky')),
    CHECK (developer_a < developer_b),
    CHECK (connected = (json_array_length(organisations) > 0))
);

INSERT INTO checks_new (id, developer_a, developer_b, registered_at_ms, connected, organisations, social_graph)
SELECT id, developer_a, developer_b, registered_at_ms, connected, organisations, social_graph
FROM checks;

DROP TABLE checks;
ALTER TABLE checks_new RENAME TO checks;

CREATE INDEX checks_by_pair ON checks (developer_a, developer_b, registered_at_ms, id);
CREATE INDEX checks_by_time ON checks (registered_at_ms);
