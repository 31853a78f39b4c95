-- Every definitive verdict, one row per check. A pair is stored under its canonical key:
-- both handles lower-cased, developer_a < developer_b byte-wise (hence COLLATE "C", so the
-- database orders handles exactly as the service does, whatever its default collation).
CREATE TABLE checks (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    developer_a   TEXT COLLATE "C" NOT NULL,
    developer_b   TEXT COLLATE "C" NOT NULL,
    registered_at TIMESTAMPTZ      NOT NULL,
    connected     BOOLEAN          NOT NULL,
    -- The shared organisations; empty when not connected.
    organisations TEXT[]           NOT NULL DEFAULT '{}',
    CHECK (developer_a < developer_b),
    CHECK (connected = (cardinality(organisations) > 0))
);

-- Serves "the history of a pair, oldest first" and its newest pages, read backwards.
CREATE INDEX checks_by_pair ON checks (developer_a, developer_b, registered_at, id);
