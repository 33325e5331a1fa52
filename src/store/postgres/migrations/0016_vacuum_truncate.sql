-- 0016: vacuum never shortens the messages table. Shortening takes an ACCESS EXCLUSIVE lock,
-- which stops every send, claim and ack on the table while vacuum waits for it and holds it;
-- on a queue table that empties and fills all day it is retried on almost every vacuum (an
-- endurance run at 3,333 messages a second saw autovacuum waiting on it over and over). The
-- pages it would give back are reused by the next messages anyway.
ALTER TABLE messages SET (vacuum_truncate = off);
