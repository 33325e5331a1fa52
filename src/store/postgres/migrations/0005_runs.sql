-- 0005: the run history: one row per attempt of a function, and the log lines it wrote.
-- Ids start with the creation instant in base 36, so the primary key orders runs by
-- creation: paging (newest first) and retention (oldest first) walk it. Run ids use
-- the "C" collation so they compare byte-wise, as on SQLite, whatever the database's.
-- Rows are written on the hot path of every queue message, so indexes are few:
-- by function and failures only (an invocation's attempts are a primary key range).
-- run_logs has no foreign key: lines may arrive before a write-behind buffer
-- writes their run's row. log_count counts a run's stored lines.
CREATE TABLE runs (
  id                     text COLLATE "C" PRIMARY KEY,
  function_name          text    NOT NULL,
  invocation_id          text    NOT NULL,
  attempt                integer NOT NULL,
  status                 text    NOT NULL
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled')),
  trigger_kind           text    NOT NULL,
  trigger                text    NOT NULL,
  input                  text,
  scheduled_for_ms       bigint,
  created_at_ms          bigint  NOT NULL,
  started_at_ms          bigint,
  finished_at_ms         bigint,
  result                 text,
  error                  text,
  cancel_requested_at_ms bigint,
  owner                  text,
  log_count              integer NOT NULL DEFAULT 0
);

CREATE INDEX runs_function ON runs (function_name, id);
CREATE INDEX runs_failures ON runs (id) WHERE status IN ('failed', 'timed_out');

CREATE TABLE run_logs (
  id            bigserial PRIMARY KEY,
  run_id        text COLLATE "C" NOT NULL,
  function_name text    NOT NULL,
  seq           integer NOT NULL,
  at_ms         bigint  NOT NULL,
  level         integer NOT NULL,
  msg           text    NOT NULL,
  fields        text
);

CREATE UNIQUE INDEX run_logs_run_seq ON run_logs (run_id, seq);
CREATE INDEX run_logs_function ON run_logs (function_name, id);
