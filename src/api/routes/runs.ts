// /v1/runs: the run history (list, one run, cancel) and a run's log lines, read
// as a page or followed live as Server-Sent Events.

import type { ServerResponse } from 'node:http';
import { MainspringError } from '../../core/errors.ts';
import { readInstant } from '../../core/instant.ts';
import type { RunLogLine, Runs } from '../../runtime/runs.ts';
import type { RunStatus, TriggerKind } from '../../store/run-row.ts';
import { OPERATIONS } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

/** A comment line this often keeps proxies and load balancers from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/** `id:` / `event:` / `data:` lines of one Server-Sent Event. */
function sse(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A filter's instant: the date-time format lets through a zone that puts it past 9999 in UTC. */
function instant(value: string, field: string): Date {
  const ms = readInstant(value);
  if (typeof ms !== 'number') {
    throw new MainspringError('E_VALIDATION', `query.${field}: ${ms.why}`, {
      details: { field: `query.${field}`, value, message: ms.why },
    });
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
        ...OPERATIONS.listRuns.schema,
        summary: 'List runs, newest first',
        description: 'Filters combine; pass `nextCursor` back as `cursor` for the next page.',
        tags: ['runs'],
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
        ...OPERATIONS.countRunsHourly.schema,
        summary: 'Runs per hour and status',
        description:
          "Runs created in the last `hours` hours (default 24), oldest hour first: the dashboard's chart.",
        tags: ['runs'],
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
        ...OPERATIONS.retryRun.schema,
        summary: 'Run a failed run again',
        description:
          'Invokes the function again with the same input, as a new invocation whose trigger is `{ kind: "manual", retryOf: <id> }`. Only failed, timed-out or cancelled runs (else 409).',
        tags: ['runs'],
      },
    },
    async (req) => ({ run: await runs.retry(req.params.id) }),
  );

  app.get(
    '/v1/runs/:id',
    {
      schema: {
        ...OPERATIONS.getRun.schema,
        summary: 'One run (one attempt)',
        tags: ['runs'],
      },
    },
    async (req) => runs.get(req.params.id),
  );

  app.post(
    '/v1/runs/:id/cancel',
    {
      schema: {
        ...OPERATIONS.cancelRun.schema,
        summary: 'Cancel a run',
        description:
          'A queued run becomes `cancelled` and never starts; a running one stays `running` with `cancelRequestedAt` set until its handler stops (its signal fires; a command gets SIGTERM).',
        tags: ['runs'],
      },
    },
    async (req) => ({ run: await runs.cancel(req.params.id) }),
  );

  app.post(
    '/v1/runs/:id/wait',
    {
      schema: {
        ...OPERATIONS.waitForRun.schema,
        summary: "Wait for a run's invocation to end",
        description:
          'Follows the invocation the run belongs to across its retries. Answers 200 with the last attempt once it is over (succeeded, cancelled, or failed with no attempt left), or 202 with the current attempt when `timeoutMs` passes first: call again to keep waiting.',
        tags: ['runs'],
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
        ...OPERATIONS.getRunLogs.schema,
        summary: "A run's log lines",
        description:
          'A page of stored lines after `afterSeq`; with `follow=1`, a `text/event-stream` instead: one `line` event per line (its `id` is the seq, so `Last-Event-ID` resumes), a `: keepalive` comment every 15 s, and a final `end` event with the status once the run has finished.',
        tags: ['runs'],
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
        ...OPERATIONS.getFunctionLogs.schema,
        summary: "The log lines of a function's runs",
        description:
          'Lines of every run of the function stored at or after `since`, oldest first (at most 1000 a page; pass `nextAfterId` back as `afterId`). With `follow=1`, a `text/event-stream` of `line` events instead, kept open for new lines until the client goes.',
        tags: ['functions'],
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
