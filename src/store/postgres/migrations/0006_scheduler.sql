-- 0006: schedules and one-off tasks. Firing walks the due-time indexes only
-- (schedules_due, tasks_due), so its cost does not grow with what is stored;
-- claims lock rows FOR UPDATE SKIP LOCKED, so schedulers never wait on each other.
-- spec is the declared schedule as JSON, read by the engine, not by SQL. Names and
-- ids use the "C" collation so they compare byte-wise, as on SQLite.
CREATE TABLE schedules (
  name               text COLLATE "C" PRIMARY KEY,
  spec               text    NOT NULL,
  source             text    NOT NULL CHECK (source IN ('config', 'api')),
  enabled            boolean NOT NULL,
  created_at_ms      bigint  NOT NULL,
  updated_at_ms      bigint  NOT NULL,
  next_tick_ms       bigint,
  due_at_ms          bigint,
  last_tick_ms       bigint,
  last_fired_at_ms   bigint,
  last_invocation_id text,
  version            integer NOT NULL DEFAULT 1
);

-- Ties in due time go by name, so claims take a fixed order straight from the index.
CREATE INDEX schedules_due ON schedules (due_at_ms, name) WHERE due_at_ms IS NOT NULL;

CREATE TABLE tasks (
  id            text COLLATE "C" PRIMARY KEY,
  action        text    NOT NULL,
  payload       text,
  due_ms        bigint  NOT NULL,
  status        text    NOT NULL CHECK (status IN ('pending', 'fired')),
  created_at_ms bigint  NOT NULL,
  updated_at_ms bigint  NOT NULL,
  fired_at_ms   bigint,
  invocation_id text
);

-- One index serves claims (pending by due time), retention (fired by due time) and
-- listing (either status; both for a list of all, merged): bulk upserts of tasks
-- write one index besides the key, not two.
CREATE INDEX tasks_due ON tasks (status, due_ms, id);
