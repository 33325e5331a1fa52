CREATE VIEW queue_run_rows AS
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

CREATE TABLE event_rules (
  name TEXT PRIMARY KEY,
  pattern TEXT NOT NULL,
  targets TEXT NOT NULL,
  input TEXT,
  rule_set TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE event_rules_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
) STRICT;

CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  detail_type TEXT NOT NULL,
  detail TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  put_at_ms INTEGER NOT NULL,
  routed_at_ms INTEGER
) STRICT;

CREATE TABLE file_announcements (
  trigger TEXT NOT NULL,
  key TEXT NOT NULL,
  etag TEXT NOT NULL,
  size INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  announced_at_ms INTEGER NOT NULL,
  PRIMARY KEY (trigger, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE flow_rates (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  tat_ms INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE locks (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  token INTEGER NOT NULL,
  acquired_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  visible_at_ms INTEGER NOT NULL,
  receive_count INTEGER NOT NULL DEFAULT 0,
  leased INTEGER NOT NULL DEFAULT 0,
  group_id TEXT,
  sent_at_ms INTEGER NOT NULL,
  errors TEXT,
  source_queue TEXT,
  dead_at_ms INTEGER
, lease_until_ms INTEGER, prior_receives INTEGER NOT NULL DEFAULT 0, trace_context TEXT, flow_key TEXT) STRICT;

CREATE TABLE queue_dedup (
  queue TEXT NOT NULL,
  key TEXT NOT NULL,
  message_id INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  PRIMARY KEY (queue, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE queue_run_sources (
  id INTEGER PRIMARY KEY,
  function_name TEXT NOT NULL,
  queue TEXT NOT NULL,
  -- A rule's delivery queue: the rule ('' for a user's queue, so the key is unique).
  rule TEXT NOT NULL,
  -- The process that ran them ('' when not known).
  owner TEXT NOT NULL,
  UNIQUE (function_name, queue, rule, owner)
) STRICT;

CREATE TABLE queue_runs (
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

CREATE TABLE queues (
  name TEXT PRIMARY KEY,
  config TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
, paused_at_ms INTEGER) STRICT;

CREATE TABLE run_logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  function_name TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  level INTEGER NOT NULL,
  msg TEXT NOT NULL,
  fields TEXT
) STRICT;

CREATE TABLE "runs" (
  id TEXT PRIMARY KEY,
  function_name TEXT NOT NULL,
  invocation_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  status TEXT NOT NULL
  CHECK (status = 'queued' OR status = 'running' OR status = 'succeeded' OR status = 'failed'
  OR status = 'timed_out' OR status = 'cancelled'),
  trigger_kind TEXT NOT NULL,
  trigger TEXT NOT NULL,
  input TEXT,
  scheduled_for_ms INTEGER,
  created_at_ms INTEGER NOT NULL,
  started_at_ms INTEGER,
  finished_at_ms INTEGER,
  result TEXT,
  error TEXT,
  cancel_requested_at_ms INTEGER,
  owner TEXT,
  log_count INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE schedules (
  name TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('config', 'api')),
  enabled INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  next_tick_ms INTEGER,
  due_at_ms INTEGER,
  last_tick_ms INTEGER,
  last_fired_at_ms INTEGER,
  last_invocation_id TEXT,
  version INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at_ms INTEGER NOT NULL
  ) STRICT;

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  action TEXT NOT NULL,
  payload TEXT,
  due_ms INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'fired')),
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  fired_at_ms INTEGER,
  invocation_id TEXT
) STRICT;

CREATE TABLE workflow_executions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  workflow TEXT NOT NULL,
  version TEXT NOT NULL,
  status TEXT NOT NULL
  CHECK (status IN ('running', 'waiting', 'succeeded', 'failed', 'stopped', 'timed_out')),
  input TEXT NOT NULL,
  output TEXT,
  error TEXT,
  progress TEXT,
  wait TEXT,
  due_at_ms INTEGER,
  lease_token TEXT,
  lease_until_ms INTEGER,
  woken INTEGER NOT NULL DEFAULT 0,
  parent_id TEXT,
  parent_op TEXT,
  op_count INTEGER NOT NULL DEFAULT 0,
  replays INTEGER NOT NULL DEFAULT 0,
  stop_requested_at_ms INTEGER,
  timeout_at_ms INTEGER,
  created_at_ms INTEGER NOT NULL,
  started_at_ms INTEGER,
  updated_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER
, trace_context TEXT) STRICT;

CREATE TABLE workflow_operations (
  execution_id TEXT NOT NULL,
  op_id TEXT NOT NULL,
  parent_op_id TEXT,
  type TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  result TEXT,
  error TEXT,
  started_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER,
  wake_at_ms INTEGER,
  heartbeat_at_ms INTEGER,
  callback_id TEXT,
  child_id TEXT,
  detail TEXT,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (execution_id, op_id)
) STRICT;

CREATE INDEX event_rules_set ON event_rules (rule_set);

CREATE INDEX events_put_at ON events (put_at_ms, seq);

CREATE INDEX events_time ON events (time_ms, seq);

CREATE INDEX events_unrouted ON events (seq) WHERE routed_at_ms IS NULL;

CREATE INDEX messages_claim ON messages (queue, priority DESC, visible_at_ms, id);

CREATE INDEX messages_delayed ON messages (queue, visible_at_ms) WHERE visible_at_ms > sent_at_ms;

CREATE INDEX messages_fifo ON messages (queue, group_id, id) WHERE group_id IS NOT NULL;

CREATE INDEX messages_flow ON messages (flow_key, queue) WHERE flow_key IS NOT NULL;

CREATE INDEX queue_dedup_expires ON queue_dedup (expires_at_ms);

CREATE INDEX queue_runs_failures ON queue_runs (id) WHERE status = 'failed' OR status = 'timed_out';

CREATE INDEX run_logs_function ON run_logs (function_name, id);

CREATE UNIQUE INDEX run_logs_run_seq ON run_logs (run_id, seq);

CREATE INDEX runs_active ON runs (status) WHERE status IN ('queued', 'running');

CREATE INDEX runs_failures ON runs (id) WHERE status IN ('failed', 'timed_out');

CREATE INDEX runs_function ON runs (function_name, id);

CREATE INDEX schedules_due ON schedules (due_at_ms, name) WHERE due_at_ms IS NOT NULL;

CREATE INDEX tasks_due ON tasks (status, due_ms, id);

CREATE INDEX workflow_executions_due ON workflow_executions (due_at_ms, seq) WHERE due_at_ms IS NOT NULL;

CREATE INDEX workflow_executions_finished ON workflow_executions (finished_at_ms) WHERE finished_at_ms IS NOT NULL;

CREATE UNIQUE INDEX workflow_executions_lease ON workflow_executions (lease_token) WHERE lease_token IS NOT NULL;

CREATE INDEX workflow_executions_parent ON workflow_executions (parent_id, seq) WHERE parent_id IS NOT NULL;

CREATE INDEX workflow_executions_workflow ON workflow_executions (workflow, seq);

CREATE UNIQUE INDEX workflow_operations_callback ON workflow_operations (callback_id) WHERE callback_id IS NOT NULL;

CREATE INDEX workflow_operations_waiting ON workflow_operations (type, started_at_ms, execution_id, op_id)
  WHERE status = 'waiting';
