-- 0009: a message's receives before its receive count last restarted. receive_count
-- restarts at 0 when a message moves to its dead-letter queue and again when it is
-- redriven (it counts towards maxReceiveCount in its current queue only); both moves
-- first add it to prior_receives. So prior_receives + receive_count numbers every
-- receive of the message over its whole life, and a run named after it is never reused:
-- before this, a redriven message's runs took the ids of its earlier, finished runs,
-- whose rows a run write never overwrites, and were lost with their log lines (issue 16).
ALTER TABLE messages ADD COLUMN prior_receives INTEGER NOT NULL DEFAULT 0;
