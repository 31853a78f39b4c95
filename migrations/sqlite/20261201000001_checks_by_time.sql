-- Serves the deletion of entries older than the retention (REGISTER_RETENTION), oldest
-- first, without reading the whole table.
CREATE INDEX checks_by_time ON checks (registered_at_ms);
