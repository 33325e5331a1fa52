// The worker process of chaos/workflows.ts: runs `chaosWorkflow` on the store given as its
// argument, with a 2 s lease (the CLI's worker holds 30 s, which would stall every takeover
// after a kill), so an execution whose worker was SIGKILLed is taken over within seconds.
// Prints `ready` once its worker runs; SIGTERM stops it cleanly.
//   node --conditions=mainspring-source chaos/lib/wf-worker.ts <store URL>

import pino from 'pino';
import { createMainspring } from '../../src/app.ts';
import { chaosWorkflow } from './wf-workflow.ts';

const db = process.argv[2];
if (!db) throw new Error('usage: wf-worker.ts <store URL>');

const ms = await createMainspring({
  db,
  workflows: [chaosWorkflow],
  logger: pino({ level: 'warn' }, pino.destination(2)),
});
await ms.startWorker({ workflows: { leaseMs: 2000, pollMs: 100 } });
process.stdout.write('ready\n');

process.once('SIGTERM', () => {
  void ms.close().then(() => process.exit(0));
});
