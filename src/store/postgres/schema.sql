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

TABLE queue_dedup
  queue text NOT NULL
  key text NOT NULL
  message_id bigint NOT NULL
  expires_at_ms bigint NOT NULL

TABLE queues
  name text NOT NULL
  config jsonb NOT NULL
  created_at_ms bigint NOT NULL
  updated_at_ms bigint NOT NULL

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

CREATE UNIQUE INDEX events_id_key ON events USING btree (id);
CREATE UNIQUE INDEX events_pkey ON events USING btree (seq);
CREATE INDEX events_put_at ON events USING btree (put_at_ms, seq);
CREATE INDEX events_time ON events USING btree (time_ms, seq);
CREATE INDEX events_unrouted ON events USING btree (seq) WHERE (routed_at_ms IS NULL);
CREATE UNIQUE INDEX file_announcements_pkey ON file_announcements USING btree (trigger, key);
CREATE UNIQUE INDEX locks_pkey ON locks USING btree (name);
CREATE INDEX messages_claim ON messages USING btree (queue, priority DESC, visible_at_ms, id);
CREATE INDEX messages_fifo ON messages USING btree (queue, group_id, id) WHERE (group_id IS NOT NULL);
CREATE INDEX messages_next_visible ON messages USING btree (queue, visible_at_ms);
CREATE UNIQUE INDEX messages_pkey ON messages USING btree (id);
CREATE UNIQUE INDEX queue_dedup_pkey ON queue_dedup USING btree (queue, key);
CREATE UNIQUE INDEX queues_pkey ON queues USING btree (name);
CREATE INDEX run_logs_function ON run_logs USING btree (function_name, id);
CREATE UNIQUE INDEX run_logs_pkey ON run_logs USING btree (id);
CREATE UNIQUE INDEX run_logs_run_seq ON run_logs USING btree (run_id, seq);
CREATE INDEX runs_failures ON runs USING btree (id) WHERE (status = ANY (ARRAY['failed'::text, 'timed_out'::text]));
CREATE INDEX runs_function ON runs USING btree (function_name, id);
CREATE UNIQUE INDEX runs_pkey ON runs USING btree (id);
CREATE INDEX schedules_due ON schedules USING btree (due_at_ms, name) WHERE (due_at_ms IS NOT NULL);
CREATE UNIQUE INDEX schedules_pkey ON schedules USING btree (name);
CREATE UNIQUE INDEX schema_migrations_pkey ON schema_migrations USING btree (version);
CREATE INDEX tasks_due ON tasks USING btree (status, due_ms, id);
CREATE UNIQUE INDEX tasks_pkey ON tasks USING btree (id);

CONSTRAINT events.events_id_key UNIQUE (id);
CONSTRAINT events.events_pkey PRIMARY KEY (seq);
CONSTRAINT file_announcements.file_announcements_pkey PRIMARY KEY (trigger, key);
CONSTRAINT locks.locks_pkey PRIMARY KEY (name);
CONSTRAINT messages.messages_pkey PRIMARY KEY (id);
CONSTRAINT queue_dedup.queue_dedup_pkey PRIMARY KEY (queue, key);
CONSTRAINT queues.queues_pkey PRIMARY KEY (name);
CONSTRAINT run_logs.run_logs_pkey PRIMARY KEY (id);
CONSTRAINT runs.runs_pkey PRIMARY KEY (id);
CONSTRAINT runs.runs_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'running'::text, 'succeeded'::text, 'failed'::text, 'timed_out'::text, 'cancelled'::text])));
CONSTRAINT schedules.schedules_pkey PRIMARY KEY (name);
CONSTRAINT schedules.schedules_source_check CHECK ((source = ANY (ARRAY['config'::text, 'api'::text])));
CONSTRAINT schema_migrations.schema_migrations_pkey PRIMARY KEY (version);
CONSTRAINT tasks.tasks_pkey PRIMARY KEY (id);
CONSTRAINT tasks.tasks_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'fired'::text])));
