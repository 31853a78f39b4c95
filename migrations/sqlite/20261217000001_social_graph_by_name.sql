-- The social graph of a verdict is checked by the service, which knows its graphs: the table
-- keeps only the shape of a graph's name, so that a new graph needs no rebuild. SQLite
-- cannot change a CHECK, so the table is built again, keeping every row and its id.
CREATE TABLE checks_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    developer_a      TEXT    NOT NULL,
    developer_b      TEXT    NOT NULL,
    registered_at_ms INTEGER NOT NULL,
    connected        INTEGER NOT NULL CHECK (connected IN (0, 1)),
    -- JSON array of the shared organisations; '[]' when not connected.
    organisations    TEXT    NOT NULL DEFAULT '[]'
        CHECK (json_valid(organisations) AND json_type(organisations) = 'array'),
    -- A graph's id: 1 to 32 lower-case letters, digits or underscores.
    social_graph     TEXT    NOT NULL DEFAULT 'x'
        CHECK (length(social_graph) BETWEEN 1 AND 32 AND social_graph NOT GLOB '*[^a-z0-9_]*'),
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
