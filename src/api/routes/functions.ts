// /v1/functions: the app's functions, and invoking one by name (optionally waiting
// for the invocation's outcome, retries included).

import { Type } from 'typebox';
import { NAME_LIMITS } from '../../core/names.ts';
import type { FunctionDefinition } from '../../runtime/function.ts';
import { ErrorSchema } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';
import { RunSchema } from './runs.ts';

const DEFAULT_WAIT_MS = 30_000;
const MAX_WAIT_MS = 15 * 60_000;

const FunctionSchema = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('function'), Type.Literal('command')]),
  triggers: Type.Array(Type.String(), { description: 'Queues the function consumes' }),
  schedules: Type.Array(Type.String(), { description: 'Schedule expressions its schedule triggers declare' }),
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
  triggers: fn.triggers.flatMap((t) => (t.kind === 'queue' ? [t.queue] : [])),
  schedules: fn.triggers.flatMap((t) =>
    t.kind === 'schedule'
      ? [typeof t.expression === 'string' ? t.expression : JSON.stringify(t.expression)]
      : [],
  ),
  timeoutMs: fn.timeoutMs,
  retry: fn.retry,
  concurrency: fn.concurrency,
});

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
          'Queues a run with `input` (202). With `wait: true`, answers 200 with the last attempt once the invocation is over (succeeded, cancelled, or failed with no attempt left), or 202 with the attempt as it is then if `waitTimeoutMs` passes (or the client goes) first.',
        tags: ['functions'],
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: NAME_LIMITS.function }) }),
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
        // Resolves with the last attempt once the invocation is over, or with the attempt as it
        // is when the signal fires.
        const run = await runs.wait(queued.id, { signal: stop.signal });
        return reply.status(stop.signal.aborted ? 202 : 200).send({ run });
      } finally {
        clearTimeout(timer);
        reply.raw.off('close', onClose);
      }
    },
  );
}
