-- 0005: the run history: one row per attempt of a function, and the log lines it wrote.
-- Ids start with the creation instant in base 36, so the primary key orders runs by
-- creation: paging (newest first) and retention (oldest first) walk it.
-- Rows are written on the hot path of every queue message, so indexes are few:
-- by function and failures only (an invocation's attempts are a primary key range).
-- run_logs has no foreign key: lines may arrive before a write-behind buffer
-- writes their run's row. log_count counts a run's stored lines.
CREATE TABLE runs (
  id                     TEXT    PRIMARY KEY,
  function_name          TEXT    NOT NULL,
  invocation_id          TEXT    NOT NULL,
  attempt                INTEGER NOT NULL,
  status                 TEXT    NOT NULL
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled')),
  trigger_kind           TEXT    NOT NULL,
  trigger                TEXT    NOT NULL,
  input                  TEXT,
  scheduled_for_ms       INTEGER,
  created_at_ms          INTEGER NOT NULL,
  started_at_ms          INTEGER,
  finished_at_ms         INTEGER,
  result                 TEXT,
  error                  TEXT,
  cancel_requested_at_ms INTEGER,
  owner                  TEXT,
  log_count              INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX runs_function ON runs (function_name, id);
CREATE INDEX runs_failures ON runs (id) WHERE status IN ('failed', 'timed_out');

CREATE TABLE run_logs (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id        TEXT    NOT NULL,
  function_name TEXT    NOT NULL,
  seq           INTEGER NOT NULL,
  at_ms         INTEGER NOT NULL,
  level         INTEGER NOT NULL,
  msg           TEXT    NOT NULL,
  fields        TEXT
) STRICT;

CREATE UNIQUE INDEX run_logs_run_seq ON run_logs (run_id, seq);
CREATE INDEX run_logs_function ON run_logs (function_name, id);
