-- 0007: workflow executions and their journals. An execution row is its own work
-- item: workers claim due rows through workflow_executions_due with FOR UPDATE SKIP
-- LOCKED; the index holds live rows only (a finished execution's due_at_ms is NULL),
-- so claims do not grow with history. seq is the insertion order and the list cursor.
-- JSON columns (input, output, error, progress, wait; an operation's result, error,
-- detail) are the engine's and never read by SQL. No foreign keys: deletes remove
-- an execution's operations first, in the same transaction. Ids use the "C"
-- collation so they compare byte-wise, as on SQLite.
CREATE TABLE workflow_executions (
  seq                  bigserial PRIMARY KEY,
  id                   text COLLATE "C" NOT NULL UNIQUE,
  workflow             text    NOT NULL,
  version              text    NOT NULL,
  status               text    NOT NULL
    CHECK (status IN ('running', 'waiting', 'succeeded', 'failed', 'stopped', 'timed_out')),
  input                text    NOT NULL,
  output               text,
  error                text,
  progress             text,
  wait                 text,
  due_at_ms            bigint,
  lease_token          text,
  lease_until_ms       bigint,
  woken                boolean NOT NULL DEFAULT false,
  parent_id            text COLLATE "C",
  parent_op            text COLLATE "C",
  op_count             integer NOT NULL DEFAULT 0,
  replays              integer NOT NULL DEFAULT 0,
  stop_requested_at_ms bigint,
  timeout_at_ms        bigint,
  created_at_ms        bigint  NOT NULL,
  started_at_ms        bigint,
  updated_at_ms        bigint  NOT NULL,
  finished_at_ms       bigint
);

-- Claims and nextDueAt; ties in due time go by seq, straight from the index.
CREATE INDEX workflow_executions_due ON workflow_executions (due_at_ms, seq) WHERE due_at_ms IS NOT NULL;
-- Lease renewal finds rows by token; only leased rows are indexed.
CREATE UNIQUE INDEX workflow_executions_lease ON workflow_executions (lease_token) WHERE lease_token IS NOT NULL;
CREATE INDEX workflow_executions_workflow ON workflow_executions (workflow, seq);
CREATE INDEX workflow_executions_parent ON workflow_executions (parent_id, seq) WHERE parent_id IS NOT NULL;
-- Retention, oldest finished first.
CREATE INDEX workflow_executions_finished ON workflow_executions (finished_at_ms) WHERE finished_at_ms IS NOT NULL;

CREATE TABLE workflow_operations (
  execution_id    text COLLATE "C" NOT NULL,
  op_id           text COLLATE "C" NOT NULL,
  parent_op_id    text COLLATE "C",
  type            text    NOT NULL,
  name            text    NOT NULL,
  status          text    NOT NULL,
  attempt         integer NOT NULL,
  result          text,
  error           text,
  started_at_ms   bigint  NOT NULL,
  finished_at_ms  bigint,
  wake_at_ms      bigint,
  heartbeat_at_ms bigint,
  callback_id     text,
  child_id        text COLLATE "C",
  detail          text,
  updated_at_ms   bigint  NOT NULL,
  PRIMARY KEY (execution_id, op_id)
);

CREATE UNIQUE INDEX workflow_operations_callback ON workflow_operations (callback_id) WHERE callback_id IS NOT NULL;
-- Event waits by type, oldest first; only waiting operations are indexed.
CREATE INDEX workflow_operations_waiting ON workflow_operations (type, started_at_ms, execution_id, op_id)
  WHERE status = 'waiting';
