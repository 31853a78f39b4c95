-- Which social graph decided each verdict (x, github or bluesky); earlier ones were X's.
ALTER TABLE checks ADD COLUMN social_graph TEXT NOT NULL DEFAULT 'x';
