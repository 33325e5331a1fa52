// jobs/db-cleanup.js — seed 002's ECS task: deletes audit logs older than 90 days and
// vacuums the table, then exits 0 (success) or 1 (failure), as the container did.
// mainspring runs it as a command (see ../mainspring.config.ts) on cron(0 2 * * ? *):
// the environment is the one the config gives it (DB_HOST, DB_PORT, DB_NAME, JOB_NAME,
// NODE_ENV) plus the secrets DB_USERNAME and DB_PASSWORD; every JSON line it prints is
// kept with the run, its fields included. The timeout is mainspring's: on it the process
// gets SIGTERM, and SIGKILL 10 s later.
//
// Run it by hand, as `aws ecs run-task` did:  mainspring invoke db-cleanup --wait

import pg from 'pg';

const RETENTION_DAYS = Number(process.env.RETENTION_DAYS ?? 90);
// Which schema holds audit_logs (default: the connection's search path, normally public).
const SCHEMA = process.env.DB_SCHEMA;

const logger = {
  info: (message, meta = {}) =>
    console.log(JSON.stringify({ level: 'info', message, job: process.env.JOB_NAME, ...meta })),
  error: (message, error) =>
    console.error(
      JSON.stringify({ level: 'error', message, job: process.env.JOB_NAME, error: error?.message }),
    ),
};

const table = SCHEMA ? `${pg.escapeIdentifier(SCHEMA)}.audit_logs` : 'audit_logs';

async function runCleanup() {
  const client = new pg.Client({
    host: process.env.DB_HOST,
    port: Number(process.env.DB_PORT ?? 5432),
    database: process.env.DB_NAME,
    user: process.env.DB_USERNAME, // a secret: from the server's environment or secretsFile
    password: process.env.DB_PASSWORD, // a secret, redacted from anything the job prints
  });
  // On the timeout (or `mainspring runs cancel`), say so before going.
  process.once('SIGTERM', () => {
    logger.error('stopped before the end', new Error('SIGTERM: the run timed out or was cancelled'));
    process.exit(1);
  });
  try {
    await client.connect();
    logger.info('starting cleanup', { retentionDays: RETENTION_DAYS, table });
    const result = await client.query(
      `DELETE FROM ${table} WHERE created_at < NOW() - make_interval(days => $1) RETURNING id`,
      [RETENTION_DAYS],
    );
    logger.info('deleted old audit logs', { deleted: result.rowCount });
    await client.query(`VACUUM ANALYZE ${table}`);
    logger.info('cleanup finished', { deleted: result.rowCount });
    await client.end();
    process.exit(0);
  } catch (error) {
    logger.error('cleanup failed', error);
    await client.end().catch(() => {});
    process.exit(1);
  }
}

await runCleanup();
