// /v1/changes: one Server-Sent Events stream telling a live page which areas changed,
// so it reloads what it shows instead of polling. One loop per server reads the store's
// change marks once a second while anyone listens, whatever the number of pages open.
// /v1/access: what the caller's token may do, for the dashboard's buttons.

import type { ServerResponse } from 'node:http';
import type { ChangeMarks, Store } from '../../store/types.ts';
import { VERSION } from '../../version.ts';
import { OPERATIONS } from '../schemas.ts';
import type { Api, ApiOptions } from '../types.ts';

/** How often marks are read while a stream is open: the delay a live page shows. */
const INTERVAL_MS = 1000;
const KEEPALIVE_MS = 15_000;

/** Reads the marks on a timer while it has listeners; each is sent the marks when they move. */
class ChangeFeed {
  readonly #store: Store;
  readonly #listeners = new Set<(marks: ChangeMarks) => void>();
  #timer: NodeJS.Timeout | undefined;
  #last: string | undefined;
  #marks: ChangeMarks | undefined;
  #reading: Promise<void> | undefined;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Calls `listener` with the current marks now and whenever they change. */
  async subscribe(listener: (marks: ChangeMarks) => void): Promise<() => void> {
    if (!this.#marks || !this.#timer) await this.#read();
    this.#listeners.add(listener);
    if (this.#marks) listener(this.#marks);
    // Real time on purpose: how fresh a page is does not scale with MAINSPRING_TIME_SCALE.
    this.#timer ??= setInterval(() => void this.#read(), INTERVAL_MS).unref();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  #read(): Promise<void> {
    // A slow read (a busy database) is not stacked behind another.
    this.#reading ??= this.#store
      .changeMarks()
      .then((marks) => {
        const text = JSON.stringify(marks);
        if (text === this.#last) return;
        this.#last = text;
        this.#marks = marks;
        for (const l of this.#listeners) l(marks);
      })
      // A store that does not answer now is read again on the next tick; the page keeps what it has.
      .catch(() => {})
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
  }
}

export function changeRoutes(
  app: Api,
  { store, token, clock }: Pick<ApiOptions, 'store' | 'token' | 'clock'>,
): void {
  const feed = new ChangeFeed(store);
  const open = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    feed.close();
    for (const res of open) res.end();
  });

  app.get(
    '/v1/access',
    {
      schema: {
        ...OPERATIONS.getAccess.schema,
        summary: 'What the caller may do',
        description:
          '`full` for the API token (or when the server asks for none), `read` for the read-only token (MAINSPRING_API_READ_TOKEN), `none` without a valid token. Answers without a token.',
        tags: ['access'],
      },
    },
    async (req) => ({
      access: req.access,
      auth: Boolean(token),
      version: VERSION,
      now: new Date(clock.now()).toISOString(),
    }),
  );

  app.get(
    '/v1/changes',
    {
      schema: {
        ...OPERATIONS.streamChanges.schema,
        summary: 'Which areas changed, as Server-Sent Events',
        description:
          'A `changes` event carries one mark per area (runs, queues, schedules, tasks, workflows, events); ' +
          'it is sent on connect and whenever a mark moves (checked every second). A page reloads an area ' +
          'it shows when that area’s mark differs from the last one it saw, so a reconnect catches up at once.',
        tags: ['access'],
        produces: ['text/event-stream'],
      },
    },
    async (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n\n');
      open.add(res);
      let n = Number(req.headers['last-event-id']) || 0;
      const unsubscribe = await feed.subscribe((marks) => {
        res.write(`id: ${++n}\nevent: changes\ndata: ${JSON.stringify(marks)}\n\n`);
      });
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS).unref();
      await new Promise<void>((resolve) => res.once('close', resolve));
      clearInterval(keepalive);
      unsubscribe();
      open.delete(res);
    },
  );
}
