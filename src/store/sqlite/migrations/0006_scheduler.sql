-- 0006: schedules and one-off tasks. Firing walks the due-time indexes only
-- (schedules_due, tasks_due), so its cost does not grow with what is stored.
-- spec is the declared schedule as JSON, read by the engine, not by SQL.
CREATE TABLE schedules (
  name               TEXT    PRIMARY KEY,
  spec               TEXT    NOT NULL,
  source             TEXT    NOT NULL CHECK (source IN ('config', 'api')),
  enabled            INTEGER NOT NULL,
  created_at_ms      INTEGER NOT NULL,
  updated_at_ms      INTEGER NOT NULL,
  next_tick_ms       INTEGER,
  due_at_ms          INTEGER,
  last_tick_ms       INTEGER,
  last_fired_at_ms   INTEGER,
  last_invocation_id TEXT,
  version            INTEGER NOT NULL DEFAULT 1
) STRICT;

-- Ties in due time go by name, so claims take a fixed order straight from the index.
CREATE INDEX schedules_due ON schedules (due_at_ms, name) WHERE due_at_ms IS NOT NULL;

CREATE TABLE tasks (
  id            TEXT    PRIMARY KEY,
  action        TEXT    NOT NULL,
  payload       TEXT,
  due_ms        INTEGER NOT NULL,
  status        TEXT    NOT NULL CHECK (status IN ('pending', 'fired')),
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  fired_at_ms   INTEGER,
  invocation_id TEXT
) STRICT;

-- One index serves claims (pending by due time), retention (fired by due time) and
-- listing (either status; both for a list of all, merged): bulk upserts of tasks
-- write one index besides the key, not two.
CREATE INDEX tasks_due ON tasks (status, due_ms, id);
