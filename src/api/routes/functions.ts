// /v1/functions: the app's functions, and invoking one by name (optionally waiting
// for the invocation's outcome, retries included).

import { DEFAULT_INVOKE_WAIT_MS } from '../../contract/index.ts';
import type { FunctionDefinition } from '../../runtime/function.ts';
import type { FunctionPauseInfo } from '../../runtime/runs.ts';
import { OPERATIONS } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

const functionJson = (fn: FunctionDefinition, pausedAt: Date | undefined) => ({
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
  limits: fn.flow && {
    concurrency: fn.flow.concurrency && {
      limit: fn.flow.concurrency.limit,
      keyed: fn.flow.concurrency.key !== null,
    },
    rate: fn.flow.rate && {
      limit: fn.flow.rate.limit,
      periodMs: fn.flow.rate.periodMs,
      burst: fn.flow.rate.burst,
      keyed: fn.flow.rate.key !== null,
    },
  },
  paused: pausedAt !== undefined,
  pausedAt: pausedAt?.toISOString() ?? null,
});

const pauseJson = (state: FunctionPauseInfo) => ({
  ...state,
  pausedAt: state.pausedAt?.toISOString() ?? null,
});

export function functionRoutes(app: Api, { runs }: ApiDeps): void {
  app.get(
    '/v1/functions',
    {
      schema: {
        ...OPERATIONS.listFunctions.schema,
        summary: "The app's functions and commands",
        tags: ['functions'],
      },
    },
    async () => {
      const paused = await runs.pausedFunctions();
      return { functions: [...runs.functions.values()].map((fn) => functionJson(fn, paused.get(fn.name))) };
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/v1/functions/:name/${action}`,
      {
        schema: {
          ...OPERATIONS[action === 'pause' ? 'pauseFunction' : 'resumeFunction'].schema,
          summary:
            action === 'pause'
              ? 'Pause: no process starts a run of the function until it is resumed; its work is still stored'
              : 'Resume a paused function',
          description:
            'Idempotent. Invocations, schedule ticks, tasks and queue messages wait; runs already started finish as usual.',
          tags: ['functions'],
        },
      },
      async (req) =>
        pauseJson(
          await (action === 'pause'
            ? runs.pauseFunction(req.params.name)
            : runs.resumeFunction(req.params.name)),
        ),
    );
  }

  app.post(
    '/v1/functions/:name/invoke',
    {
      schema: {
        ...OPERATIONS.invokeFunction.schema,
        summary: 'Invoke a function',
        description:
          'Queues a run with `input` (202). With `wait: true`, answers 200 with the last attempt once the invocation is over (succeeded, cancelled, or failed with no attempt left), or 202 with the attempt as it is then if `waitTimeoutMs` passes (or the client goes) first.',
        tags: ['functions'],
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
      const timer = setTimeout(() => stop.abort(), body.waitTimeoutMs ?? DEFAULT_INVOKE_WAIT_MS);
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
