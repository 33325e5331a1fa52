-- 0011: before durations were bounded (100 years), a queue send could store a delay past
-- the last instant a Date holds (8.64e15 ms), even past 2^53, and node:sqlite then refused
-- to read the row as a JS number: the message was unreadable (GET answered 500). Such a
-- message keeps its meaning, "delayed for ever", at the last representable instant.
UPDATE messages SET visible_at_ms = 8640000000000000 WHERE visible_at_ms > 8640000000000000;
