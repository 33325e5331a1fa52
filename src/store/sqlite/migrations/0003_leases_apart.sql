-- 0003: a receive no longer touches any indexed column. The lease moves to its own
-- column (lease_until_ms); visible_at_ms now only says "not before" (delay, retry
-- backoff), so a receive or a visibility extension rewrites no index entry.
-- A message is receivable when visible_at_ms <= now AND NOT (leased AND lease_until_ms > now).
ALTER TABLE messages ADD COLUMN lease_until_ms INTEGER;
UPDATE messages SET lease_until_ms = visible_at_ms WHERE leased = 1;

-- The earliest upcoming message of a queue (what an idle consumer sleeps until).
CREATE INDEX messages_next_visible ON messages (queue, visible_at_ms);
