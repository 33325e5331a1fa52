-- 0001: leases with fencing tokens. A released or expired lease keeps its row so
-- the next holder's token continues from it (tokens increase strictly per name).
CREATE TABLE locks (
  name           TEXT    PRIMARY KEY,
  owner          TEXT    NOT NULL,
  token          INTEGER NOT NULL,
  acquired_at_ms INTEGER NOT NULL,
  expires_at_ms  INTEGER NOT NULL
) STRICT;
