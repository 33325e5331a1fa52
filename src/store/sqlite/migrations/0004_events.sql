-- 0004: the event bus archive and file-arrival announcements.
-- An event is stored once per id (a repeated id stores nothing: webhook deliveries
-- and file arrivals use ids derived from what they announce, so a retry is a no-op).
-- routed_at_ms stays NULL until every matching rule target has been sent the event;
-- events left unrouted by a crash are routed again by the bus's sweep.
-- seq orders events for sweeps and replays; ids are the callers'.
CREATE TABLE events (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  id            TEXT    NOT NULL UNIQUE,
  source        TEXT    NOT NULL,
  detail_type   TEXT    NOT NULL,
  detail        TEXT    NOT NULL,
  time_ms       INTEGER NOT NULL,
  put_at_ms     INTEGER NOT NULL,
  routed_at_ms  INTEGER
) STRICT;

CREATE INDEX events_unrouted ON events (seq) WHERE routed_at_ms IS NULL;
CREATE INDEX events_time ON events (time_ms, seq);
CREATE INDEX events_put_at ON events (put_at_ms, seq);

-- Files a file trigger has announced, by trigger and key, with the content hash
-- announced: the same content is announced once, across restarts.
CREATE TABLE file_announcements (
  trigger         TEXT    NOT NULL,
  key             TEXT    NOT NULL,
  etag            TEXT    NOT NULL,
  size            INTEGER NOT NULL,
  event_id        TEXT    NOT NULL,
  announced_at_ms INTEGER NOT NULL,
  PRIMARY KEY (trigger, key)
) STRICT, WITHOUT ROWID;
