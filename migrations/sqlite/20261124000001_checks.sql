-- Every definitive verdict, one row per check. A pair is stored under its canonical key:
-- both handles lower-cased, developer_a < developer_b.
CREATE TABLE checks (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    developer_a      TEXT    NOT NULL,
    developer_b      TEXT    NOT NULL,
    registered_at_ms INTEGER NOT NULL,
    connected        INTEGER NOT NULL CHECK (connected IN (0, 1)),
    -- JSON array of the shared organisations; '[]' when not connected.
    organisations    TEXT    NOT NULL DEFAULT '[]',
    CHECK (developer_a < developer_b)
);

-- Serves "the history of a pair, oldest first".
CREATE INDEX checks_by_pair ON checks (developer_a, developer_b, registered_at_ms, id);
