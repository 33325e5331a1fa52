TABLE event_rules
  name text NOT NULL
  pattern text NOT NULL
  targets text NOT NULL
  input text
  rule_set text NOT NULL
  updated_at_ms bigint NOT NULL

TABLE event_rules_version
  id integer NOT NULL
  version bigint NOT NULL

TABLE events
  seq bigint NOT NULL DEFAULT nextval('events_seq_seq'::regclass)
  id text NOT NULL
  source text NOT NULL
  detail_type text NOT NULL
  detail text NOT NULL
  time_ms bigint NOT NULL
  put_at_ms bigint NOT NULL
  routed_at_ms bigint

TABLE file_announcements
  trigger text NOT NULL
  key text NOT NULL
  etag text NOT NULL
  size bigint NOT NULL
  event_id text NOT NULL
  announced_at_ms bigint NOT NULL

TABLE flow_rates
  scope text NOT NULL
  key text NOT NULL
  tat_ms bigint NOT NULL

TABLE locks
  name text NOT NULL
  owner text NOT NULL
  token bigint NOT NULL
  acquired_at_ms bigint NOT NULL
  expires_at_ms bigint NOT NULL

TABLE messages
  id bigint NOT NULL DEFAULT nextval('messages_id_seq'::regclass)
  queue text NOT NULL
  body text NOT NULL
  priority integer NOT NULL DEFAULT 0
  visible_at_ms bigint NOT NULL
  receive_count integer NOT NULL DEFAULT 0
  leased boolean NOT NULL DEFAULT false
  group_id text
  sent_at_ms bigint NOT NULL
  errors jsonb
  source_queue text
  dead_at_ms bigint
  lease_until_ms bigint
  prior_receives integer NOT NULL DEFAULT 0
  trace_context text
  flow_key text

TABLE queue_dedup
  queue text NOT NULL
  key text NOT NULL
  message_id bigint NOT NULL
  expires_at_ms bigint NOT NULL

TABLE queue_run_rows
  id text
  function_name text
  invocation_id text
  attempt integer
  status text
  trigger_kind text
  trigger text
  input text
  scheduled_for_ms bigint
  created_at_ms bigint
  started_at_ms bigint
  finished_at_ms bigint
  result text
  error text
  cancel_requested_at_ms bigint
  owner text
  log_count integer

TABLE queue_run_sources
  id integer NOT NULL
  function_name text NOT NULL
  queue text NOT NULL
  rule text NOT NULL
  owner text NOT NULL

TABLE queue_runs
  id text NOT NULL
  source integer NOT NULL
  message_id bigint NOT NULL
  status text NOT NULL
  started_at_ms bigint NOT NULL
  finished_at_ms bigint NOT NULL
  result text
  error text
  log_count integer NOT NULL

TABLE queue_waiters
  queue text NOT NULL
  consumer text NOT NULL
  function_queue text
  visibility_ms bigint NOT NULL
  offered_at_ms bigint NOT NULL
  expires_at_ms bigint NOT NULL
  listener_pid integer NOT NULL

TABLE queues
  name text NOT NULL
  config jsonb NOT NULL
  created_at_ms bigint NOT NULL
  updated_at_ms bigint NOT NULL
  paused_at_ms bigint

TABLE run_logs
  id bigint NOT NULL DEFAULT nextval('run_logs_id_seq'::regclass)
  run_id text NOT NULL
  function_name text NOT NULL
  seq integer NOT NULL
  at_ms bigint NOT NULL
  level integer NOT NULL
  msg text NOT NULL
  fields text

TABLE runs
  id text NOT NULL
  function_name text NOT NULL
  invocation_id text NOT NULL
  attempt integer NOT NULL
  status text NOT NULL
  trigger_kind text NOT NULL
  trigger text NOT NULL
  input text
  scheduled_for_ms bigint
  created_at_ms bigint NOT NULL
  started_at_ms bigint
  finished_at_ms bigint
  result text
  error text
  cancel_requested_at_ms bigint
  owner text
  log_count integer NOT NULL DEFAULT 0

TABLE schedules
  name text NOT NULL
  spec text NOT NULL
  source text NOT NULL
  enabled boolean NOT NULL
  created_at_ms bigint NOT NULL
  updated_at_ms bigint NOT NULL
  next_tick_ms bigint
  due_at_ms bigint
  last_tick_ms bigint
  last_fired_at_ms bigint
  last_invocation_id text
  version integer NOT NULL DEFAULT 1

TABLE schema_migrations
  version integer NOT NULL
  name text NOT NULL
  applied_at_ms bigint NOT NULL

TABLE tasks
  id text NOT NULL
  action text NOT NULL
  payload text
  due_ms bigint NOT NULL
  status text NOT NULL
  created_at_ms bigint NOT NULL
  updated_at_ms bigint NOT NULL
  fired_at_ms bigint
  invocation_id text

TABLE workflow_executions
  seq bigint NOT NULL DEFAULT nextval('workflow_executions_seq_seq'::regclass)
  id text NOT NULL
  workflow text NOT NULL
  version text NOT NULL
  status text NOT NULL
  input text NOT NULL
  output text
  error text
  progress text
  wait text
  due_at_ms bigint
  lease_token text
  lease_until_ms bigint
  woken boolean NOT NULL DEFAULT false
  parent_id text
  parent_op text
  op_count integer NOT NULL DEFAULT 0
  replays integer NOT NULL DEFAULT 0
  stop_requested_at_ms bigint
  timeout_at_ms bigint
  created_at_ms bigint NOT NULL
  started_at_ms bigint
  updated_at_ms bigint NOT NULL
  finished_at_ms bigint
  trace_context text

TABLE workflow_operations
  execution_id text NOT NULL
  op_id text NOT NULL
  parent_op_id text
  type text NOT NULL
  name text NOT NULL
  status text NOT NULL
  attempt integer NOT NULL
  result text
  error text
  started_at_ms bigint NOT NULL
  finished_at_ms bigint
  wake_at_ms bigint
  heartbeat_at_ms bigint
  callback_id text
  child_id text
  detail text
  updated_at_ms bigint NOT NULL

CREATE UNIQUE INDEX event_rules_pkey ON event_rules USING btree (name);
CREATE INDEX event_rules_set ON event_rules USING btree (rule_set);
CREATE UNIQUE INDEX event_rules_version_pkey ON event_rules_version USING btree (id);
CREATE UNIQUE INDEX events_id_key ON events USING btree (id);
CREATE UNIQUE INDEX events_pkey ON events USING btree (seq);
CREATE INDEX events_put_at ON events USING btree (put_at_ms, seq);
CREATE INDEX events_time ON events USING btree (time_ms, seq);
CREATE INDEX events_unrouted ON events USING btree (seq) WHERE (routed_at_ms IS NULL);
CREATE UNIQUE INDEX file_announcements_pkey ON file_announcements USING btree (trigger, key);
CREATE UNIQUE INDEX flow_rates_pkey ON flow_rates USING btree (scope, key);
CREATE UNIQUE INDEX locks_pkey ON locks USING btree (name);
CREATE INDEX messages_claim ON messages USING btree (queue, priority DESC, visible_at_ms, id);
CREATE INDEX messages_delayed ON messages USING btree (queue, visible_at_ms) WHERE (visible_at_ms > sent_at_ms);
CREATE INDEX messages_fifo ON messages USING btree (queue, group_id, id) WHERE (group_id IS NOT NULL);
CREATE INDEX messages_flow ON messages USING btree (flow_key, queue) WHERE (flow_key IS NOT NULL);
CREATE UNIQUE INDEX messages_pkey ON messages USING btree (id);
CREATE INDEX queue_dedup_expires ON queue_dedup USING btree (expires_at_ms);
CREATE UNIQUE INDEX queue_dedup_pkey ON queue_dedup USING btree (queue, key);
CREATE UNIQUE INDEX queue_run_sources_function_name_queue_rule_owner_key ON queue_run_sources USING btree (function_name, queue, rule, owner);
CREATE UNIQUE INDEX queue_run_sources_pkey ON queue_run_sources USING btree (id);
CREATE INDEX queue_runs_failures ON queue_runs USING btree (id) WHERE (status = ANY (ARRAY['failed'::text, 'timed_out'::text]));
CREATE UNIQUE INDEX queue_runs_pkey ON queue_runs USING btree (id);
CREATE INDEX queue_waiters_fresh ON queue_waiters USING btree (queue, expires_at_ms);
CREATE UNIQUE INDEX queue_waiters_pkey ON queue_waiters USING btree (queue, consumer);
CREATE UNIQUE INDEX queues_pkey ON queues USING btree (name);
CREATE INDEX run_logs_function ON run_logs USING btree (function_name, id);
CREATE UNIQUE INDEX run_logs_pkey ON run_logs USING btree (id);
CREATE UNIQUE INDEX run_logs_run_seq ON run_logs USING btree (run_id, seq);
CREATE INDEX runs_active ON runs USING btree (status) WHERE (status = ANY (ARRAY['queued'::text, 'running'::text]));
CREATE INDEX runs_failures ON runs USING btree (id) WHERE (status = ANY (ARRAY['failed'::text, 'timed_out'::text]));
CREATE INDEX runs_function ON runs USING btree (function_name, id);
CREATE UNIQUE INDEX runs_pkey ON runs USING btree (id);
CREATE INDEX schedules_due ON schedules USING btree (due_at_ms, name) WHERE (due_at_ms IS NOT NULL);
CREATE UNIQUE INDEX schedules_pkey ON schedules USING btree (name);
CREATE UNIQUE INDEX schema_migrations_pkey ON schema_migrations USING btree (version);
CREATE INDEX tasks_due ON tasks USING btree (status, due_ms, id);
CREATE UNIQUE INDEX tasks_pkey ON tasks USING btree (id);
CREATE INDEX workflow_executions_due ON workflow_executions USING btree (due_at_ms, seq) WHERE (due_at_ms IS NOT NULL);
CREATE INDEX workflow_executions_finished ON workflow_executions USING btree (finished_at_ms) WHERE (finished_at_ms IS NOT NULL);
CREATE UNIQUE INDEX workflow_executions_id_key ON workflow_executions USING btree (id);
CREATE UNIQUE INDEX workflow_executions_lease ON workflow_executions USING btree (lease_token) WHERE (lease_token IS NOT NULL);
CREATE INDEX workflow_executions_parent ON workflow_executions USING btree (parent_id, seq) WHERE (parent_id IS NOT NULL);
CREATE UNIQUE INDEX workflow_executions_pkey ON workflow_executions USING btree (seq);
CREATE INDEX workflow_executions_workflow ON workflow_executions USING btree (workflow, seq);
CREATE UNIQUE INDEX workflow_operations_callback ON workflow_operations USING btree (callback_id) WHERE (callback_id IS NOT NULL);
CREATE UNIQUE INDEX workflow_operations_pkey ON workflow_operations USING btree (execution_id, op_id);
CREATE INDEX workflow_operations_waiting ON workflow_operations USING btree (type, started_at_ms, execution_id, op_id) WHERE (status = 'waiting'::text);

OPTIONS messages (autovacuum_analyze_scale_factor=0.02, autovacuum_vacuum_cost_delay=0, autovacuum_vacuum_insert_scale_factor=0.0, autovacuum_vacuum_insert_threshold=20000, autovacuum_vacuum_scale_factor=0.0, autovacuum_vacuum_threshold=5000, fillfactor=50, vacuum_truncate=off);

CONSTRAINT event_rules.event_rules_pkey PRIMARY KEY (name);
CONSTRAINT event_rules_version.event_rules_version_id_check CHECK ((id = 1));
CONSTRAINT event_rules_version.event_rules_version_pkey PRIMARY KEY (id);
CONSTRAINT events.events_id_key UNIQUE (id);
CONSTRAINT events.events_pkey PRIMARY KEY (seq);
CONSTRAINT file_announcements.file_announcements_pkey PRIMARY KEY (trigger, key);
CONSTRAINT flow_rates.flow_rates_pkey PRIMARY KEY (scope, key);
CONSTRAINT locks.locks_pkey PRIMARY KEY (name);
CONSTRAINT messages.messages_pkey PRIMARY KEY (id);
CONSTRAINT queue_dedup.queue_dedup_pkey PRIMARY KEY (queue, key);
CONSTRAINT queue_run_sources.queue_run_sources_function_name_queue_rule_owner_key UNIQUE (function_name, queue, rule, owner);
CONSTRAINT queue_run_sources.queue_run_sources_pkey PRIMARY KEY (id);
CONSTRAINT queue_runs.queue_runs_pkey PRIMARY KEY (id);
CONSTRAINT queue_waiters.queue_waiters_pkey PRIMARY KEY (queue, consumer);
CONSTRAINT queues.queues_pkey PRIMARY KEY (name);
CONSTRAINT run_logs.run_logs_pkey PRIMARY KEY (id);
CONSTRAINT runs.runs_pkey PRIMARY KEY (id);
CONSTRAINT runs.runs_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'running'::text, 'succeeded'::text, 'failed'::text, 'timed_out'::text, 'cancelled'::text])));
CONSTRAINT schedules.schedules_pkey PRIMARY KEY (name);
CONSTRAINT schedules.schedules_source_check CHECK ((source = ANY (ARRAY['config'::text, 'api'::text])));
CONSTRAINT schema_migrations.schema_migrations_pkey PRIMARY KEY (version);
CONSTRAINT tasks.tasks_pkey PRIMARY KEY (id);
CONSTRAINT tasks.tasks_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'fired'::text])));
CONSTRAINT workflow_executions.workflow_executions_id_key UNIQUE (id);
CONSTRAINT workflow_executions.workflow_executions_pkey PRIMARY KEY (seq);
CONSTRAINT workflow_executions.workflow_executions_status_check CHECK ((status = ANY (ARRAY['running'::text, 'waiting'::text, 'succeeded'::text, 'failed'::text, 'stopped'::text, 'timed_out'::text])));
CONSTRAINT workflow_operations.workflow_operations_pkey PRIMARY KEY (execution_id, op_id);

FUNCTION send(queue text, body jsonb, options jsonb DEFAULT '{}'::jsonb);
PROCEDURE send_one(IN p_queue text, IN p_body text, IN p_priority integer, IN p_visible_at_ms bigint, IN p_now_ms bigint, IN p_channel text, IN p_trace_context text, INOUT message_id bigint DEFAULT NULL::bigint);
FUNCTION send_whole_number(options jsonb, field text, lo numeric, hi numeric, fix text);
