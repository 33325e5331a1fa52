-- 0015: a paused queue (issue 25). While paused_at_ms is set, claims of the queue return
-- nothing, in every process: sends are still stored, leased messages finish or time out as
-- usual. Kept apart from config, so re-registering a queue's settings leaves it paused.
ALTER TABLE queues ADD COLUMN paused_at_ms INTEGER;
