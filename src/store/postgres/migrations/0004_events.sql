-- 0004: the event bus archive and file-arrival announcements.
-- An event is stored once per id (a repeated id stores nothing: webhook deliveries
-- and file arrivals use ids derived from what they announce, so a retry is a no-op).
-- routed_at_ms stays NULL until every matching rule target has been sent the event;
-- events left unrouted by a crash are routed again by the bus's sweep.
-- seq orders events for sweeps and replays; ids are the callers'.
CREATE TABLE events (
  seq           bigserial PRIMARY KEY,
  id            text      NOT NULL UNIQUE,
  source        text      NOT NULL,
  detail_type   text      NOT NULL,
  detail        text      NOT NULL,
  time_ms       bigint    NOT NULL,
  put_at_ms     bigint    NOT NULL,
  routed_at_ms  bigint
);

CREATE INDEX events_unrouted ON events (seq) WHERE routed_at_ms IS NULL;
CREATE INDEX events_time ON events (time_ms, seq);
CREATE INDEX events_put_at ON events (put_at_ms, seq);

-- Files a file trigger has announced, by trigger and key, with the content hash
-- announced: the same content is announced once, across restarts.
CREATE TABLE file_announcements (
  trigger         text   NOT NULL,
  key             text   NOT NULL,
  etag            text   NOT NULL,
  size            bigint NOT NULL,
  event_id        text   NOT NULL,
  announced_at_ms bigint NOT NULL,
  PRIMARY KEY (trigger, key)
);
