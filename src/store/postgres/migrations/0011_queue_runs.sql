-- 0011: the narrow record of a queue run. Most runs are one-message queue runs that finish
-- within a second: written once, when they finish, and never changed after. They go here
-- instead of into runs, keyed by their run id (<sent instant>m<message id in base 36>-<attempt>)
-- and holding only what that id does not already say; what every run of one consumer shares
-- (function, queue, rule, the process that ran it) is one queue_run_sources row they point to.
-- About half a runs row's cost to write (npm run bench:record-shapes). queue_run_rows shows
-- them in the shape of runs, and the run store reads both as one history. No status check:
-- only the runtime writes here, with a finished run's status.
CREATE TABLE IF NOT EXISTS queue_run_sources (
  id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  function_name text NOT NULL,
  queue         text NOT NULL,
  -- A rule's delivery queue: the rule ('' for a user's queue, so the key is unique).
  rule          text NOT NULL,
  -- The process that ran them ('' when not known).
  owner         text NOT NULL,
  UNIQUE (function_name, queue, rule, owner)
);

CREATE TABLE IF NOT EXISTS queue_runs (
  id             text COLLATE "C" PRIMARY KEY,
  source         integer NOT NULL,
  message_id     bigint  NOT NULL,
  status         text    NOT NULL,
  started_at_ms  bigint  NOT NULL,
  finished_at_ms bigint  NOT NULL,
  result         text,
  error          text,
  log_count      integer NOT NULL
);

-- No index by function: one function's runs are found by walking the primary key newest
-- first, which a page of a busy function's runs ends soon; an index cost the W1 drain about
-- three points (npm run bench:runtime). Failures are indexed: a success skips it.
CREATE INDEX IF NOT EXISTS queue_runs_failures ON queue_runs (id) WHERE status IN ('failed', 'timed_out');

CREATE OR REPLACE VIEW queue_run_rows AS
SELECT r.id, s.function_name, split_part(r.id, '-', 1) AS invocation_id,
       split_part(r.id, '-', 2)::integer AS attempt, r.status,
       CASE WHEN s.rule = '' THEN 'queue' ELSE 'event' END AS trigger_kind,
       CASE WHEN s.rule = '' THEN '{"kind":"queue","queue":' || to_json(s.queue)::text
            ELSE '{"kind":"event","rule":' || to_json(s.rule)::text || ',"queue":' || to_json(s.queue)::text END
         || ',"messageIds":["' || r.message_id || '"]}' AS trigger,
       NULL::text AS input, NULL::bigint AS scheduled_for_ms, r.started_at_ms AS created_at_ms, r.started_at_ms,
       r.finished_at_ms, r.result, r.error, NULL::bigint AS cancel_requested_at_ms, nullif(s.owner, '') AS owner,
       r.log_count
  FROM queue_runs r JOIN queue_run_sources s ON s.id = r.source;
