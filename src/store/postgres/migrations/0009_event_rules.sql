-- 0009: event rules live in the store (issue 17), so every process that puts an event
-- (a server, the CLI, a producer with no config) routes it by the same rules. A serving
-- process stores its config's rules at start; every other process only reads them.
-- pattern, targets (the delivery queues and dedup-key parts) and input are JSON, read by
-- the engine, not by SQL; input NULL delivers the whole event. Names use the "C"
-- collation so they sort byte-wise, as on SQLite.
-- rule_set names the set of rule names one config declared together: a config that
-- declares a rule of a stored set speaks for that set, and removes the set's rules it no
-- longer declares; rules of other sets are left as they are.
CREATE TABLE event_rules (
  name          text COLLATE "C" PRIMARY KEY,
  pattern       text   NOT NULL,
  targets       text   NOT NULL,
  input         text,
  rule_set      text   NOT NULL,
  updated_at_ms bigint NOT NULL
);

CREATE INDEX event_rules_set ON event_rules (rule_set);

-- One row whose version moves with every change to event_rules, in the same transaction:
-- a process reads it before routing and reloads the rules only when it moved. Changes
-- lock this row first, so concurrent declarations run one after the other.
CREATE TABLE event_rules_version (
  id      integer PRIMARY KEY CHECK (id = 1),
  version bigint  NOT NULL
);

INSERT INTO event_rules_version (id, version) VALUES (1, 0);
