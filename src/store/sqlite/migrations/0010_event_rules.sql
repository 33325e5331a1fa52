-- 0010: event rules live in the store (issue 17), so every process that puts an event
-- (a server, the CLI, a producer with no config) routes it by the same rules. A serving
-- process stores its config's rules at start; every other process only reads them.
-- pattern, targets (the delivery queues and dedup-key parts) and input are JSON, read by
-- the engine, not by SQL; input NULL delivers the whole event.
-- rule_set names the set of rule names one config declared together: a config that
-- declares a rule of a stored set speaks for that set, and removes the set's rules it no
-- longer declares; rules of other sets are left as they are.
CREATE TABLE event_rules (
  name          TEXT    PRIMARY KEY,
  pattern       TEXT    NOT NULL,
  targets       TEXT    NOT NULL,
  input         TEXT,
  rule_set      TEXT    NOT NULL,
  updated_at_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX event_rules_set ON event_rules (rule_set);

-- One row whose version moves with every change to event_rules, in the same transaction:
-- a process reads it before routing and reloads the rules only when it moved.
CREATE TABLE event_rules_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
) STRICT;

INSERT INTO event_rules_version (id, version) VALUES (1, 0);
