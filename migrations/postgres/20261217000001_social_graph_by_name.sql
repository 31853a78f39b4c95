-- The social graph of a verdict is checked by the service, which knows its graphs: the table
-- keeps only the shape of a graph's name, so that a new graph needs no migration.
ALTER TABLE checks DROP CONSTRAINT IF EXISTS checks_social_graph_check;
ALTER TABLE checks ADD CONSTRAINT checks_social_graph_name
    CHECK (social_graph ~ '^[a-z0-9_]{1,32}$');
