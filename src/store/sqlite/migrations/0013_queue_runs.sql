-- 0013: the narrow record of a queue run. Most runs are one-message queue runs that finish
-- within a second: written once, when they finish, and never changed after. They go here
-- instead of into runs, keyed by their run id (<sent instant>m<message id in base 36>-<attempt>)
-- and holding only what that id does not already say; what every run of one consumer shares
-- (function, queue, rule, the process that ran it) is one queue_run_sources row they point to.
-- About a third of a runs row's cost to write (npm run bench:record-shapes). queue_run_rows
-- shows them in the shape of runs, and the run store reads both as one history. No status
-- check: only the runtime writes here, with a finished run's status.
-- (IF NOT EXISTS: a store an older version migrated part-way, as a test makes, comes through.)
CREATE TABLE IF NOT EXISTS queue_run_sources (
  id INTEGER PRIMARY KEY,
  function_name TEXT NOT NULL,
  queue TEXT NOT NULL,
  -- A rule's delivery queue: the rule ('' for a user's queue, so the key is unique).
  rule TEXT NOT NULL,
  -- The process that ran them ('' when not known).
  owner TEXT NOT NULL,
  UNIQUE (function_name, queue, rule, owner)
) STRICT;

CREATE TABLE IF NOT EXISTS queue_runs (
  id TEXT PRIMARY KEY,
  source INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  status TEXT NOT NULL,
  started_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER NOT NULL,
  result TEXT,
  error TEXT,
  log_count INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- No index by function: one function's runs are found by walking the primary key newest
-- first, which a page of a busy function's runs ends soon; an index cost the W1 drain about
-- three points on PostgreSQL (npm run bench:runtime). Failures are indexed: a success skips
-- it (the predicate as = comparisons: SQLite evaluates an IN list more dearly, see 0008).
CREATE INDEX IF NOT EXISTS queue_runs_failures ON queue_runs (id) WHERE status = 'failed' OR status = 'timed_out';

CREATE VIEW IF NOT EXISTS queue_run_rows AS
SELECT r.id, s.function_name, substr(r.id, 1, instr(r.id, '-') - 1) AS invocation_id,
       CAST(substr(r.id, instr(r.id, '-') + 1) AS INTEGER) AS attempt, r.status,
       CASE WHEN s.rule = '' THEN 'queue' ELSE 'event' END AS trigger_kind,
       CASE WHEN s.rule = '' THEN '{"kind":"queue","queue":' || json_quote(s.queue)
            ELSE '{"kind":"event","rule":' || json_quote(s.rule) || ',"queue":' || json_quote(s.queue) END
         || ',"messageIds":["' || r.message_id || '"]}' AS trigger,
       NULL AS input, NULL AS scheduled_for_ms, r.started_at_ms AS created_at_ms, r.started_at_ms,
       r.finished_at_ms, r.result, r.error, NULL AS cancel_requested_at_ms, nullif(s.owner, '') AS owner,
       r.log_count
  FROM queue_runs r JOIN queue_run_sources s ON s.id = r.source;
