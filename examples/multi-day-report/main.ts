// Runs the seven-day report example: one process that stores executions (SQLite by
// default, or DATABASE_URL), runs them with a worker, and serves the task API.
//
//   npm run example:multi-day-report
//   MAINSPRING_TIME_SCALE=1440 npm run example:multi-day-report   # a day per real minute

import { clockFromEnv, createMainspring, ScaledClock } from 'mainspringjs';
import pino from 'pino';
import { createTaskApi } from './api.ts';
import { createReportWorkflow } from './workflow.ts';

const log = pino({ name: 'multi-day-report' });
const clock = clockFromEnv();
const db = process.env['DATABASE_URL'] ?? 'sqlite:.mainspring/multi-day-report.db';
const port = Number(process.env['PORT'] ?? 3000);
const host = process.env['HOST'] ?? '127.0.0.1';

const ms = await createMainspring({
  db,
  clock,
  logger: log,
  workflows: [createReportWorkflow({ clock })],
});
const scale = clock instanceof ScaledClock ? clock.scale : 1;
// Scaled time shortens the waits only: polls and leases stay in real time.
await ms.startWorker();
const api = createTaskApi(ms);
await api.listen({ port, host });

log.info(
  {
    url: `http://${host}:${port}/tasks`,
    db: db.startsWith('sqlite:') ? db : db.replace(/\/\/[^@/]*@/, '//***@'),
    timeScale: scale,
  },
  scale === 1
    ? 'task API listening'
    : `task API listening; time runs ${scale}× faster (a day takes ${(86_400 / scale).toFixed(0)} s)`,
);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    void api
      .close()
      .then(() => ms.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  });
}
