TABLE locks
  name text NOT NULL
  owner text NOT NULL
  token bigint NOT NULL
  acquired_at_ms bigint NOT NULL
  expires_at_ms bigint NOT NULL

TABLE schema_migrations
  version integer NOT NULL
  name text NOT NULL
  applied_at_ms bigint NOT NULL

CREATE UNIQUE INDEX locks_pkey ON locks USING btree (name);
CREATE UNIQUE INDEX schema_migrations_pkey ON schema_migrations USING btree (version);

CONSTRAINT locks.locks_pkey PRIMARY KEY (name);
CONSTRAINT schema_migrations.schema_migrations_pkey PRIMARY KEY (version);
