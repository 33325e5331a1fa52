-- 0001: leases with fencing tokens. A released or expired lease keeps its row so
-- the next holder's token continues from it (tokens increase strictly per name).
CREATE TABLE locks (
  name           text   PRIMARY KEY,
  owner          text   NOT NULL,
  token          bigint NOT NULL,
  acquired_at_ms bigint NOT NULL,
  expires_at_ms  bigint NOT NULL
);
