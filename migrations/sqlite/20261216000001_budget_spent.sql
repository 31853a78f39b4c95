-- What each spend budget's counter (the service's, or a key's) spent in each of its windows
-- (the window's start, milliseconds since the epoch, UTC), every instance's spending added
-- up: a budget holds across restarts and outages of the store that shares its counters.
CREATE TABLE budget_spent (
    counter         TEXT NOT NULL CHECK (length(counter) BETWEEN 1 AND 128),
    window_start_ms INTEGER NOT NULL,
    units           INTEGER NOT NULL DEFAULT 0 CHECK (units >= 0),
    PRIMARY KEY (counter, window_start_ms)
) STRICT;
