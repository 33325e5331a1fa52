// heavyJob (seed: a batch-job running src/heavy-processing.ts, 4 vCPU / 8 GiB, 1 h
// timeout, 02:00 UTC daily). Here it is a command: mainspring runs `node
// src/heavy-processing.ts` as a child process, with its input as JSON on stdin and in
// MAINSPRING_INPUT, and stops it (SIGTERM, then SIGKILL) if it outlives its hour.
// Each JSON line it prints becomes a line of the run's log; exit 0 is success.
//
// The work is a stand-in: it folds `items` records (default 1,000,000) into a checksum,
// reporting progress every tenth and yielding to the event loop then, so a SIGTERM is
// handled promptly.

import { setImmediate as yieldToLoop } from 'node:timers/promises';

interface Input {
  readonly items?: number;
}

const log = (level: 'info' | 'error', msg: string, fields: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ level, msg, job: 'heavy-job', ...fields }));

process.on('SIGTERM', () => {
  log('error', 'stopped before the end (timeout or cancel)');
  process.exit(143);
});

const raw = process.env['MAINSPRING_INPUT'];
const input: Input = raw ? ((JSON.parse(raw) as Input | null) ?? {}) : {};
const total = input.items ?? 1_000_000;
if (!Number.isInteger(total) || total < 0) {
  log('error', `items is ${JSON.stringify(input.items)}; give a whole number`);
  process.exit(2);
}

log('info', 'batch started', { items: total });
const started = Date.now();
let checksum = 0;
const step = Math.max(1, Math.ceil(total / 10));
for (let i = 0; i < total; i++) {
  checksum = (checksum * 31 + i) % 1_000_000_007;
  if ((i + 1) % step === 0 && i + 1 < total) {
    log('info', 'progress', { done: i + 1, total });
    await yieldToLoop();
  }
}
log('info', 'batch finished', { items: total, checksum, ms: Date.now() - started });
