-- The readiness probe's one row (db/DatabaseWatch): each probe on a primary updates it, so that the probe's commit
-- writes WAL and waits, as every write does, for a synchronous standby; a primary whose standby is gone then shows
-- as not ready instead of answering reads while every write hangs.
CREATE TABLE database_probe (
  id integer PRIMARY KEY CHECK (id = 1),
  at timestamptz NOT NULL
);
INSERT INTO database_probe (id, at) VALUES (1, now());
