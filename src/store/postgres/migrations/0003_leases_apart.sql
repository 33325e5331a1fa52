-- 0003: a receive no longer touches any indexed column. The lease moves to its own
-- column (lease_until_ms); visible_at_ms now only says "not before" (delay, retry
-- backoff). Receives and visibility extensions become HOT updates (no index
-- writes), which is most of the cost of a receive.
-- A message is receivable when visible_at_ms <= now AND NOT (leased AND lease_until_ms > now).
ALTER TABLE messages ADD COLUMN lease_until_ms bigint;
UPDATE messages SET lease_until_ms = visible_at_ms WHERE leased;

-- The earliest upcoming message of a queue (what an idle consumer sleeps until).
CREATE INDEX messages_next_visible ON messages (queue, visible_at_ms);

-- Every message is inserted, leased and deleted: vacuum far more eagerly than the
-- default (20% dead rows), and leave room on each page for the HOT lease updates.
ALTER TABLE messages SET (
  fillfactor = 80,
  autovacuum_vacuum_scale_factor = 0.0,
  autovacuum_vacuum_threshold = 5000,
  autovacuum_vacuum_insert_scale_factor = 0.0,
  autovacuum_vacuum_insert_threshold = 20000,
  autovacuum_analyze_scale_factor = 0.02,
  autovacuum_vacuum_cost_delay = 0
);
