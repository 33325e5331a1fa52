-- 0007: workflow executions and their journals. An execution row is its own work
-- item: workers claim due rows through workflow_executions_due, which holds live
-- rows only (a finished execution's due_at_ms is NULL), so claims do not grow with
-- history. seq is the insertion order and the list cursor; AUTOINCREMENT never
-- reuses one, so a cursor never skips a newer execution. woken is 0/1.
-- JSON columns (input, output, error, progress, wait; an operation's result, error,
-- detail) are the engine's and never read by SQL. No foreign keys: deletes remove
-- an execution's operations first, in the same transaction.
CREATE TABLE workflow_executions (
  seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
  id                   TEXT    NOT NULL UNIQUE,
  workflow             TEXT    NOT NULL,
  version              TEXT    NOT NULL,
  status               TEXT    NOT NULL
    CHECK (status IN ('running', 'waiting', 'succeeded', 'failed', 'stopped', 'timed_out')),
  input                TEXT    NOT NULL,
  output               TEXT,
  error                TEXT,
  progress             TEXT,
  wait                 TEXT,
  due_at_ms            INTEGER,
  lease_token          TEXT,
  lease_until_ms       INTEGER,
  woken                INTEGER NOT NULL DEFAULT 0,
  parent_id            TEXT,
  parent_op            TEXT,
  op_count             INTEGER NOT NULL DEFAULT 0,
  replays              INTEGER NOT NULL DEFAULT 0,
  stop_requested_at_ms INTEGER,
  timeout_at_ms        INTEGER,
  created_at_ms        INTEGER NOT NULL,
  started_at_ms        INTEGER,
  updated_at_ms        INTEGER NOT NULL,
  finished_at_ms       INTEGER
) STRICT;

-- Claims and nextDueAt; ties in due time go by seq, straight from the index.
CREATE INDEX workflow_executions_due ON workflow_executions (due_at_ms, seq) WHERE due_at_ms IS NOT NULL;
-- Lease renewal finds rows by token; only leased rows are indexed.
CREATE UNIQUE INDEX workflow_executions_lease ON workflow_executions (lease_token) WHERE lease_token IS NOT NULL;
CREATE INDEX workflow_executions_workflow ON workflow_executions (workflow, seq);
CREATE INDEX workflow_executions_parent ON workflow_executions (parent_id, seq) WHERE parent_id IS NOT NULL;
-- Retention, oldest finished first.
CREATE INDEX workflow_executions_finished ON workflow_executions (finished_at_ms) WHERE finished_at_ms IS NOT NULL;

CREATE TABLE workflow_operations (
  execution_id    TEXT    NOT NULL,
  op_id           TEXT    NOT NULL,
  parent_op_id    TEXT,
  type            TEXT    NOT NULL,
  name            TEXT    NOT NULL,
  status          TEXT    NOT NULL,
  attempt         INTEGER NOT NULL,
  result          TEXT,
  error           TEXT,
  started_at_ms   INTEGER NOT NULL,
  finished_at_ms  INTEGER,
  wake_at_ms      INTEGER,
  heartbeat_at_ms INTEGER,
  callback_id     TEXT,
  child_id        TEXT,
  detail          TEXT,
  updated_at_ms   INTEGER NOT NULL,
  PRIMARY KEY (execution_id, op_id)
) STRICT;

CREATE UNIQUE INDEX workflow_operations_callback ON workflow_operations (callback_id) WHERE callback_id IS NOT NULL;
-- Event waits by type, oldest first; only waiting operations are indexed.
CREATE INDEX workflow_operations_waiting ON workflow_operations (type, started_at_ms, execution_id, op_id)
  WHERE status = 'waiting';
