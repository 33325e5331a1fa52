// /v1/functions: the app's functions, and invoking one by name (optionally waiting
// for the invocation's outcome, retries included).

import { Type } from 'typebox';
import type { FunctionDefinition } from '../../runtime/function.ts';
import { attemptRunId, type Run, type Runs } from '../../runtime/runs.ts';
import { ErrorSchema } from '../schemas.ts';
import type { Api, ApiDeps } from '../server.ts';
import { RunSchema } from './runs.ts';

const DEFAULT_WAIT_MS = 30_000;
const MAX_WAIT_MS = 15 * 60_000;

const FunctionSchema = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('function'), Type.Literal('command')]),
  triggers: Type.Array(Type.String(), { description: 'Queues the function consumes' }),
  timeoutMs: Type.Union([Type.Integer(), Type.Null()]),
  retry: Type.Object({
    maxAttempts: Type.Integer(),
    backoff: Type.Union([Type.Literal('fixed'), Type.Literal('exponential')]),
    baseMs: Type.Integer(),
    maxMs: Type.Integer(),
    jitter: Type.Boolean(),
  }),
  concurrency: Type.Integer(),
});
const Errors = { 400: ErrorSchema, 404: ErrorSchema, 413: ErrorSchema };

const functionJson = (fn: FunctionDefinition) => ({
  name: fn.name,
  kind: fn.command !== null ? ('command' as const) : ('function' as const),
  triggers: fn.triggers.map((t) => t.queue),
  timeoutMs: fn.timeoutMs,
  retry: fn.retry,
  concurrency: fn.concurrency,
});

/** The newest attempt of the run's invocation (a retry is queued as the next attempt). */
async function latestAttempt(runs: Runs, run: Run): Promise<Run> {
  let latest = run;
  for (;;) {
    try {
      latest = await runs.get(attemptRunId(latest.invocationId, latest.attempt + 1));
    } catch {
      return latest;
    }
  }
}

/**
 * Resolves with the invocation's last attempt once it is over, or null when `signal` fires first.
 *
 * The signal is deliberately not passed to `runs.wait`: once it has fired, that loop re-reads the
 * store without ever sleeping (its pause returns at once) and, on SQLite, starves the event loop.
 * The wait left behind polls every 200 ms until the run finishes or the store closes.
 */
async function waitUntil(runs: Runs, id: string, signal: AbortSignal): Promise<Run | null> {
  if (signal.aborted) return null;
  const waiting = runs.wait(id);
  const aborted = new Promise<null>((resolve) =>
    signal.addEventListener('abort', () => resolve(null), { once: true }),
  );
  waiting.catch(() => {});
  return Promise.race([waiting, aborted]);
}

export function functionRoutes(app: Api, { runs }: ApiDeps): void {
  app.get(
    '/v1/functions',
    {
      schema: {
        summary: "The app's functions and commands",
        tags: ['functions'],
        response: { 200: Type.Object({ functions: Type.Array(FunctionSchema) }) },
      },
    },
    async () => ({ functions: [...runs.functions.values()].map(functionJson) }),
  );

  app.post(
    '/v1/functions/:name/invoke',
    {
      schema: {
        summary: 'Invoke a function',
        description:
          'Queues a run with `input` (202). With `wait: true`, answers 200 with the last attempt once the invocation is over (succeeded, cancelled, or failed with no attempt left), or 202 with the newest attempt if `waitTimeoutMs` passes first.',
        tags: ['functions'],
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }),
        body: Type.Object(
          {
            input: Type.Optional(Type.Unknown({ description: 'Any JSON value; the handler gets it' })),
            wait: Type.Optional(Type.Boolean({ default: false })),
            waitTimeoutMs: Type.Optional(
              Type.Integer({ minimum: 1, maximum: MAX_WAIT_MS, default: DEFAULT_WAIT_MS }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ run: RunSchema }),
          202: Type.Object({ run: RunSchema }),
          ...Errors,
        },
      },
      // A bare POST (no body) is an invocation with no input: Fastify would validate `undefined`.
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req, reply) => {
      const body = req.body;
      const queued = await runs.invoke(req.params.name, body.input);
      if (body.wait !== true) return reply.status(202).send({ run: queued });
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), body.waitTimeoutMs ?? DEFAULT_WAIT_MS);
      // The response's close before it was sent means the client went away.
      const onClose = () => stop.abort();
      reply.raw.on('close', onClose);
      try {
        const done = await waitUntil(runs, queued.id, stop.signal);
        if (done !== null) return reply.status(200).send({ run: done });
        return reply.status(202).send({ run: await latestAttempt(runs, await runs.get(queued.id)) });
      } finally {
        clearTimeout(timer);
        reply.raw.off('close', onClose);
      }
    },
  );
}
