// /v1/runs: the run history (list, one run, cancel) and a run's log lines, read
// as a page or followed live as Server-Sent Events.

import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import { MainspringError } from '../../core/errors.ts';
import { readInstant } from '../../core/instant.ts';
import { NAME_LIMITS } from '../../core/names.ts';
import { RUN_STATUSES, type RunLogLine, type Runs } from '../../runtime/runs.ts';
import type { RunStatus, TriggerKind } from '../../store/run-row.ts';
import { ErrorSchema } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

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

export const LogLineSchema = Type.Object({
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
const Follow = Type.Optional(
  Type.Union([Type.Literal('1'), Type.Literal('true'), Type.Literal('0'), Type.Literal('false')], {
    description: '1 or true: a text/event-stream that stays open for new lines',
  }),
);

/** `id:` / `event:` / `data:` lines of one Server-Sent Event. */
function sse(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A filter's instant: the date-time format lets through a zone that puts it past 9999 in UTC. */
function instant(value: string, field: string): Date {
  const ms = readInstant(value);
  if (typeof ms !== 'number') {
    throw new MainspringError('E_VALIDATION', `${field}: ${ms.why}`, { details: { field, value } });
  }
  return new Date(ms);
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
  /** Runs a stream, ended early by the server's close. */
  const serveStream = async (stream: (stop: AbortSignal) => Promise<void>): Promise<void> => {
    const stop = new AbortController();
    const streaming = stream(stop.signal);
    streams.set(stop, streaming);
    try {
      await streaming;
    } finally {
      streams.delete(stop);
    }
  };

  app.get(
    '/v1/runs',
    {
      schema: {
        summary: 'List runs, newest first',
        description: 'Filters combine; pass `nextCursor` back as `cursor` for the next page.',
        tags: ['runs'],
        querystring: Type.Object(
          {
            function: Type.Optional(Type.String({ minLength: 1, maxLength: NAME_LIMITS.function })),
            status: Type.Optional(
              Type.String({
                pattern: `^(${RUN_STATUSES.join('|')})(,(${RUN_STATUSES.join('|')}))*$`,
                maxLength: 100,
                description: `One or more of ${RUN_STATUSES.join(', ')}, comma-separated (any of them)`,
              }),
            ),
            trigger: Type.Optional(Type.Enum([...TRIGGER_KINDS])),
            invocation: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 128,
                description: 'Only the attempts of this invocation',
              }),
            ),
            q: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 200,
                description: 'A case-insensitive substring of the input, the error or a log line',
              }),
            ),
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
        ...(q.status !== undefined ? { statuses: q.status.split(',') as RunStatus[] } : {}),
        ...(q.invocation !== undefined ? { invocation: q.invocation } : {}),
        ...(q.q !== undefined ? { search: q.q } : {}),
        ...(q.trigger !== undefined ? { trigger: q.trigger as TriggerKind } : {}),
        ...(q.from !== undefined ? { from: instant(q.from, 'from') } : {}),
        ...(q.to !== undefined ? { to: instant(q.to, 'to') } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(q.limit !== undefined ? { limit: Number(q.limit) } : {}),
      });
    },
  );

  app.get(
    '/v1/runs/hourly',
    {
      schema: {
        summary: 'Runs per hour and status',
        description:
          "Runs created in the last `hours` hours (default 24), oldest hour first: the dashboard's chart.",
        tags: ['runs'],
        querystring: Type.Object(
          { hours: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: '1 to 168' })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            from: DateTime,
            hours: Type.Array(
              Type.Object({ start: DateTime, counts: Type.Record(Type.String(), Type.Integer()) }),
            ),
          }),
          ...Errors,
        },
      },
    },
    async (req) => {
      const { from, hours } = await runs.hourly(Number(req.query.hours ?? 24));
      return {
        from: from.toISOString(),
        hours: hours.map((h) => ({ start: h.start.toISOString(), counts: h.counts })),
      };
    },
  );

  app.post(
    '/v1/runs/:id/retry',
    {
      schema: {
        summary: 'Run a failed run again',
        description:
          'Invokes the function again with the same input, as a new invocation whose trigger is `{ kind: "manual", retryOf: <id> }`. Only failed, timed-out or cancelled runs (else 409).',
        tags: ['runs'],
        params: Id,
        response: { 200: Type.Object({ run: RunSchema }), 409: ErrorSchema, ...Errors },
      },
    },
    async (req) => ({ run: await runs.retry(req.params.id) }),
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

  app.post(
    '/v1/runs/:id/wait',
    {
      schema: {
        summary: "Wait for a run's invocation to end",
        description:
          'Follows the invocation the run belongs to across its retries. Answers 200 with the last attempt once it is over (succeeded, cancelled, or failed with no attempt left), or 202 with the current attempt when `timeoutMs` passes first: call again to keep waiting.',
        tags: ['runs'],
        params: Id,
        body: Type.Object(
          { timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000, default: 30_000 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ run: RunSchema }), 202: Type.Object({ run: RunSchema }), ...Errors },
      },
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req, reply) => {
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), req.body.timeoutMs ?? 30_000);
      const onClose = () => stop.abort();
      reply.raw.on('close', onClose);
      try {
        const run = await runs.wait(req.params.id, { signal: stop.signal });
        return reply.status(stop.signal.aborted ? 202 : 200).send({ run });
      } finally {
        clearTimeout(timer);
        reply.raw.off('close', onClose);
      }
    },
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
            follow: Follow,
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
      await serveStream((stop) => streamLogs(runs, id, afterSeq, reply.raw, stop));
      return reply;
    },
  );

  app.get(
    '/v1/functions/:name/logs',
    {
      schema: {
        summary: "The log lines of a function's runs",
        description:
          'Lines of every run of the function stored at or after `since`, oldest first (at most 1000 a page; pass `nextAfterId` back as `afterId`). With `follow=1`, a `text/event-stream` of `line` events instead, kept open for new lines until the client goes.',
        tags: ['functions'],
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: NAME_LIMITS.function }) }),
        querystring: Type.Object(
          {
            since: Type.Optional(Type.String({ format: 'date-time' })),
            afterId: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$' })),
            follow: Follow,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ lines: Type.Array(LogLineSchema), nextAfterId: Type.Integer() }),
          ...Errors,
        },
      },
    },
    async (req, reply) => {
      const { name } = req.params;
      const since = req.query.since === undefined ? undefined : instant(req.query.since, 'since');
      const afterId = Number(req.query.afterId ?? 0);
      await runs.checkFunction(name);
      if (req.query.follow !== '1' && req.query.follow !== 'true') {
        const lines = await runs.functionLogs(name, { ...(since ? { since } : {}), afterId });
        return { lines, nextAfterId: lines.at(-1)?.id ?? afterId };
      }
      reply.hijack();
      const lines = (signal: AbortSignal) =>
        runs.followFunction(name, { ...(since ? { since } : {}), afterId, signal, follow: true });
      await serveStream((stop) =>
        streamLines(
          lines,
          (line) => line.id,
          async () => null,
          reply.raw,
          stop,
        ),
      );
      return reply;
    },
  );
}

/** Writes a run's log lines to `res` as Server-Sent Events until the run has finished, the client goes, or the server closes. */
function streamLogs(
  runs: Runs,
  id: string,
  afterSeq: number,
  res: ServerResponse,
  shutdown: AbortSignal,
): Promise<void> {
  return streamLines(
    (signal) => runs.follow(id, { afterSeq, signal }),
    (line) => line.seq,
    async () => ({ status: (await runs.get(id)).status }),
    res,
    shutdown,
  );
}

/**
 * Writes log lines to `res` as Server-Sent Events (`line`, its id the seq) until they end, the
 * client goes, or the server closes; then an `end` event with what `end()` gives, if anything.
 */
async function streamLines(
  follow: (signal: AbortSignal) => AsyncIterable<RunLogLine>,
  idOf: (line: RunLogLine) => number,
  end: () => Promise<unknown>,
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
    for await (const line of follow(gone.signal)) {
      if (gone.signal.aborted) return;
      res.write(sse('line', line, idOf(line)));
    }
    if (gone.signal.aborted) return;
    const last = await end();
    if (last !== null) res.write(sse('end', last));
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
