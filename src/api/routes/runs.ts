// /v1/runs: the run history (list, one run, cancel) and a run's log lines, read
// as a page or followed live as Server-Sent Events.

import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import { MainspringError } from '../../core/errors.ts';
import { RUN_STATUSES, type Runs } from '../../runtime/runs.ts';
import type { RunStatus, TriggerKind } from '../../store/run-row.ts';
import { ErrorSchema } from '../schemas.ts';
import type { Api, ApiDeps } from '../server.ts';

const TRIGGER_KINDS: readonly TriggerKind[] = ['manual', 'queue', 'event', 'schedule', 'task', 'webhook'];
/** A comment line this often keeps proxies and load balancers from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

const DateTime = Type.String({ format: 'date-time' });
const NullableDateTime = Type.Union([DateTime, Type.Null()]);

export const RunSchema = Type.Object({
  id: Type.String({ description: 'One per attempt' }),
  function: Type.String(),
  invocationId: Type.String({ description: 'Shared by every attempt of one invocation' }),
  attempt: Type.Integer({ minimum: 1 }),
  status: Type.Enum([...RUN_STATUSES]),
  trigger: Type.Object(
    { kind: Type.String({ description: TRIGGER_KINDS.join(', ') }) },
    { additionalProperties: true, description: 'What started the run, with its details' },
  ),
  input: Type.Unknown(),
  scheduledFor: NullableDateTime,
  createdAt: DateTime,
  startedAt: NullableDateTime,
  finishedAt: NullableDateTime,
  durationMs: Type.Union([Type.Integer(), Type.Null()]),
  result: Type.Unknown({ description: 'What the handler returned (succeeded runs)' }),
  error: Type.Union([
    Type.Object(
      {
        name: Type.String(),
        message: Type.String(),
        code: Type.Optional(Type.String()),
        stack: Type.Optional(Type.String()),
        exitCode: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
      },
      { additionalProperties: true },
    ),
    Type.Null(),
  ]),
  cancelRequestedAt: NullableDateTime,
  owner: Type.Union([Type.String(), Type.Null()], { description: 'The process that ran it' }),
  logCount: Type.Integer({ minimum: 0 }),
});

const LogLineSchema = Type.Object({
  runId: Type.String(),
  function: Type.String(),
  seq: Type.Integer({ description: '1, 2, … within the run' }),
  id: Type.Integer(),
  time: DateTime,
  level: Type.Integer({ description: 'pino level: 30 info, 40 warn, 50 error' }),
  msg: Type.String(),
  fields: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
// Query values are strings (the API's Ajv does not coerce): numbers are matched as text.
const Seq = Type.String({
  pattern: '^(0|[1-9][0-9]{0,15})$',
  description: 'A log line seq (0: from the first)',
});
const Errors = { 400: ErrorSchema, 404: ErrorSchema };

/** `id:` / `event:` / `data:` lines of one Server-Sent Event. */
function sse(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function runRoutes(app: Api, { runs }: ApiDeps): void {
  // Open streams would hold the server's close until their runs finish: end them first
  // (an EventSource reconnects elsewhere with Last-Event-ID).
  const streams = new Map<AbortController, Promise<void>>();
  app.addHook('preClose', async () => {
    for (const stop of streams.keys()) stop.abort();
    // Ended before the server closes, so their connections are idle when it closes those.
    await Promise.all(streams.values());
  });

  app.get(
    '/v1/runs',
    {
      schema: {
        summary: 'List runs, newest first',
        description: 'Filters combine; pass `nextCursor` back as `cursor` for the next page.',
        tags: ['runs'],
        querystring: Type.Object(
          {
            function: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            status: Type.Optional(Type.Enum([...RUN_STATUSES])),
            trigger: Type.Optional(Type.Enum([...TRIGGER_KINDS])),
            from: Type.Optional(Type.String({ format: 'date-time', description: 'Created at or after' })),
            to: Type.Optional(Type.String({ format: 'date-time', description: 'Created before' })),
            cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
            limit: Type.Optional(
              Type.String({
                pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$',
                description: '1 to 500 (default 50)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            runs: Type.Array(RunSchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...Errors,
        },
      },
    },
    async (req) => {
      const q = req.query;
      return runs.list({
        ...(q.function !== undefined ? { function: q.function } : {}),
        ...(q.status !== undefined ? { status: q.status as RunStatus } : {}),
        ...(q.trigger !== undefined ? { trigger: q.trigger as TriggerKind } : {}),
        ...(q.from !== undefined ? { from: new Date(q.from) } : {}),
        ...(q.to !== undefined ? { to: new Date(q.to) } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(q.limit !== undefined ? { limit: Number(q.limit) } : {}),
      });
    },
  );

  app.get(
    '/v1/runs/:id',
    {
      schema: {
        summary: 'One run (one attempt)',
        tags: ['runs'],
        params: Id,
        response: { 200: RunSchema, ...Errors },
      },
    },
    async (req) => runs.get(req.params.id),
  );

  app.post(
    '/v1/runs/:id/cancel',
    {
      schema: {
        summary: 'Cancel a run',
        description:
          'A queued run becomes `cancelled` and never starts; a running one stays `running` with `cancelRequestedAt` set until its handler stops (its signal fires; a command gets SIGTERM).',
        tags: ['runs'],
        params: Id,
        response: { 200: Type.Object({ run: RunSchema }), ...Errors },
      },
    },
    async (req) => ({ run: await runs.cancel(req.params.id) }),
  );

  app.get(
    '/v1/runs/:id/logs',
    {
      schema: {
        summary: "A run's log lines",
        description:
          'A page of stored lines after `afterSeq`; with `follow=1`, a `text/event-stream` instead: one `line` event per line (its `id` is the seq, so `Last-Event-ID` resumes), a `: keepalive` comment every 15 s, and a final `end` event with the status once the run has finished.',
        tags: ['runs'],
        params: Id,
        querystring: Type.Object(
          {
            afterSeq: Type.Optional(Seq),
            limit: Type.Optional(
              Type.String({ pattern: '^([1-9][0-9]{0,2}|1000)$', description: '1 to 1000 (default 1000)' }),
            ),
            follow: Type.Optional(
              Type.Union([Type.Literal('1'), Type.Literal('true'), Type.Literal('0'), Type.Literal('false')]),
            ),
          },
          { additionalProperties: false },
        ),
        headers: Type.Object({ 'last-event-id': Type.Optional(Seq) }),
        response: {
          200: Type.Object({
            lines: Type.Array(LogLineSchema),
            nextAfterSeq: Type.Integer({ description: 'Pass back as afterSeq for the lines after these' }),
          }),
          ...Errors,
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const lastEventId = req.headers['last-event-id'];
      const afterSeq = Number(lastEventId ?? req.query.afterSeq ?? 0);
      if (req.query.follow !== '1' && req.query.follow !== 'true') {
        const lines = await runs.logs(id, { afterSeq, limit: Number(req.query.limit ?? 1000) });
        return { lines, nextAfterSeq: lines.at(-1)?.seq ?? afterSeq };
      }
      // Unknown runs get the usual JSON 404 while the reply is still Fastify's.
      await runs.get(id);
      reply.hijack();
      const stop = new AbortController();
      const streaming = streamLogs(runs, id, afterSeq, reply.raw, stop.signal);
      streams.set(stop, streaming);
      try {
        await streaming;
      } finally {
        streams.delete(stop);
      }
      return reply;
    },
  );
}

/** Writes a run's log lines to `res` as Server-Sent Events until the run has finished, the client goes, or the server closes. */
async function streamLogs(
  runs: Runs,
  id: string,
  afterSeq: number,
  res: ServerResponse,
  shutdown: AbortSignal,
): Promise<void> {
  const gone = new AbortController();
  // The response's close (not the request's, which closes once its body is read) says the client left.
  res.on('close', () => gone.abort());
  shutdown.addEventListener('abort', () => gone.abort(), { once: true });
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    // A stream holds its connection for as long as it lasts; reusing it afterwards gains nothing.
    connection: 'close',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  try {
    for await (const line of runs.follow(id, { afterSeq, signal: gone.signal })) {
      if (gone.signal.aborted) return;
      res.write(sse('line', line, line.seq));
    }
    if (gone.signal.aborted) return;
    const run = await runs.get(id);
    res.write(sse('end', { status: run.status }));
  } catch (err) {
    if (!gone.signal.aborted) {
      const e = err instanceof MainspringError ? err : new MainspringError('E_INTERNAL', 'log stream failed');
      res.write(sse('error', { code: e.code, message: e.message }));
    }
  } finally {
    clearInterval(keepalive);
    res.end();
  }
}
