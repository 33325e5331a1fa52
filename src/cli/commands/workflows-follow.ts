// Following one workflow execution until it ends: what `workflows start --wait` and
// `workflows watch` share. Both ask the API to wait in short slices
// (POST /v1/executions/:id/wait), so the end is seen at once and the status and the
// progress the workflow reports (ctx.progress) between slices.

import type { Command } from 'commander';
import { EXECUTION_STATUSES, FINISHED_STATUSES } from '../../store/workflow-row.ts';
import type { Execution } from '../../workflow/client.ts';
import type { ApiClient } from '../client.ts';
import { type ClientFlags, err, out, withClient } from '../connect.ts';
import { interruptSignal } from '../flags.ts';
import { shortDuration } from '../table.ts';
import { Ticker } from '../ticker.ts';

export { EXECUTION_STATUSES };

/** How long one wait request may last: the status line and `watch` see changes this often. */
const SLICE_MS = 500;

/** How long an execution may stay unclaimed before `start --wait` says no worker seems to run it. */
const NO_WORKER_NOTE_MS = 5000;

export const enc = encodeURIComponent;

export const isFinished = (e: Execution): boolean => FINISHED_STATUSES.includes(e.status);

/** Started (status running) but not yet claimed by any worker. */
const notPickedUp = (e: Execution): boolean => e.status === 'running' && e.startedAt === null;

export function errorText(
  e: { name: string; message: string; code?: string } | undefined,
  status: string,
): string {
  if (e === undefined) return status;
  return `${e.name}: ${e.message}${e.code ? ` [${e.code}]` : ''}`;
}

/** `wait "cool-off", until …`, `callback 5f0c…, until …` */
export function waitText(e: Execution): string {
  const w = e.wait;
  if (w === null) return '-';
  // waitForCallback's own operation is named after its kind: the name would only repeat it.
  const name = w.name === w.kind ? '' : ` "${w.name}"`;
  const id = w.callbackId !== undefined ? ` ${w.callbackId}` : '';
  return `${w.kind}${name}${id}${w.until !== null ? `, until ${w.until}` : ''}`;
}

/**
 * What ctx.progress last stored, on one line: `{ percentage: 40, message: "copying" }` is
 * `40% copying`; a string is itself; any other value its JSON; none is `-`.
 */
export function progressText(p: unknown): string {
  if (p === null || p === undefined) return '-';
  if (typeof p === 'string') return p === '' ? '-' : p;
  if (typeof p === 'object' && !Array.isArray(p)) {
    const o = p as Record<string, unknown>;
    const isPercent = (k: string) => (k === 'percentage' || k === 'percent') && typeof o[k] === 'number';
    const isMessage = (k: string) => k === 'message' && typeof o[k] === 'string';
    const keys = Object.keys(o);
    if (keys.length > 0 && keys.every((k) => isPercent(k) || isMessage(k))) {
      const percent = keys.find(isPercent);
      const text = [percent !== undefined ? `${o[percent]}%` : '', (o['message'] as string | undefined) ?? '']
        .filter((s) => s !== '')
        .join(' ');
      return text === '' ? '-' : text;
    }
  }
  return JSON.stringify(p);
}

/**
 * The status line while following, what matters first (a narrow terminal cuts the end):
 * `order-42 waiting, 40% copying, 12.5s (wait "cool-off", until …)`.
 */
function statusLine(e: Execution, elapsedMs: number): string {
  const state = notPickedUp(e) ? 'running, not started yet' : e.status;
  const progress = e.progress === null ? '' : `, ${progressText(e.progress)}`;
  const wait = e.wait !== null ? ` (${waitText(e)})` : '';
  return `${e.id} ${state}${progress}, ${shortDuration(Math.max(0, elapsedMs))}${wait}`;
}

/**
 * Follows an execution from `current` until it has finished (resolving with its final
 * record), or until `deadline` (ms since the epoch) passes or `signal` fires (null).
 * `onState` sees every state read, `current` first.
 */
async function follow(
  client: ApiClient,
  current: Execution,
  options: { deadline: number | null; signal: AbortSignal; onState: (e: Execution) => void },
): Promise<Execution | null> {
  options.onState(current);
  let e = current;
  while (!isFinished(e)) {
    if (options.signal.aborted) return null;
    const left = options.deadline === null ? SLICE_MS : options.deadline - Date.now();
    if (left <= 0) return null;
    const res = await client.call<Execution>('POST', `/v1/executions/${enc(e.id)}/wait`, {
      body: { timeoutMs: Math.max(1, Math.min(SLICE_MS, left)) },
    });
    e = res.body;
    options.onState(e);
  }
  return e;
}

/**
 * `start --wait`: the finished execution, or null when `timeoutMs` passed or Ctrl-C came
 * first (`interrupted` says which). On a terminal a status line shows the status, the
 * progress and the time waited; a note says when no worker has claimed it for 5 s.
 */
export async function waitForExecution(
  client: ApiClient,
  started: Execution,
  timeoutMs: number | null,
): Promise<{ final: Execution | null; interrupted: boolean }> {
  const t0 = Date.now();
  const ticker = new Ticker();
  const interrupt = interruptSignal();
  let warned = false;
  try {
    const final = await follow(client, started, {
      deadline: timeoutMs === null ? null : t0 + timeoutMs,
      signal: interrupt.signal,
      onState: (e) => {
        const elapsed = Date.now() - t0;
        if (!warned && notPickedUp(e) && elapsed >= NO_WORKER_NOTE_MS) {
          warned = true;
          ticker.note(
            `no worker has picked up execution ${e.id} after ${Math.round(elapsed / 1000)}s (status running, not started); is \`mainspring start\` (or \`mainspring worker\`) running against this store with "${e.workflow}" defined?`,
          );
        }
        ticker.show(statusLine(e, elapsed));
      },
    });
    return { final, interrupted: interrupt.signal.aborted };
  } finally {
    ticker.clear();
    interrupt.done();
  }
}

/** `<time> <status> <progress>`: one line of `watch` when its output is not a terminal. */
const changeText = (e: Execution) => `${e.status} ${progressText(e.progress)}`;

export function registerWatch(workflows: Command, addOptions: (cmd: Command) => Command): void {
  addOptions(
    workflows
      .command('watch')
      .description("follow an execution's status and progress until it ends; exit 0 if it succeeded, else 1"),
  )
    .argument('<id>', 'the execution id')
    .addHelpText(
      'after',
      '\nOn a terminal: one status line, rewritten as it changes, then the final state.\nPiped: one line per change, `<time> <status> <progress>` (the time of the change);\nwith --json, the execution as one JSON object per change.\n\nExample:\n  mainspring workflows watch order-42',
    )
    .action((id: string, flags: ClientFlags) =>
      withClient(flags, 'read', async (client) => {
        const live = !flags.json && process.stdout.isTTY === true && process.stderr.isTTY === true;
        const ticker = new Ticker();
        let last = '';
        const onState = (e: Execution) => {
          if (live) {
            ticker.show(statusLine(e, Date.now() - Date.parse(e.startedAt ?? e.createdAt)));
            return;
          }
          const text = changeText(e);
          if (text === last) return;
          last = text;
          out(flags.json ? JSON.stringify(e) : `${e.updatedAt} ${text}`);
        };
        const first = await client.get<Execution>(`/v1/executions/${enc(id)}`);
        const interrupt = interruptSignal();
        let final: Execution | null;
        try {
          final = await follow(client, first, { deadline: null, signal: interrupt.signal, onState });
        } finally {
          ticker.clear();
          interrupt.done();
        }
        if (final === null) {
          // Ctrl-C: the execution goes on; the shell's convention for an interrupt.
          process.exitCode = 130;
          return;
        }
        if (live) out(`${final.updatedAt} ${changeText(final)}`);
        if (final.status !== 'succeeded') {
          err(`execution ${final.id} ${final.status}: ${errorText(final.error, final.status)}`);
          process.exitCode = 1;
        }
      }),
    );
}
