// orderService (seed: src/orders.ts behind /orders/{proxy+}, publishing to the event
// bus): a process of its own, with no mainspring config — no rules, no functions. It
// opens the same store as the server and puts OrderCreated and OrderShipped events;
// the rules stored by the server route them to the e-mail and analytics services.
//
//   POST /orders            {"userId": 456}  → 201 {"orderId": "…", "eventId": "…"}
//   POST /orders/:id/ship                    → 200 {"orderId": "…", "eventId": "…"}
//
//   npm run example:background-jobs:orders          # PORT (default 3001), DATABASE_URL

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMainspring } from 'mainspringjs';

const db = process.env['DATABASE_URL'] ?? 'sqlite:.mainspring/background-jobs.db';
const port = Number(process.env['PORT'] ?? 3001);
const host = process.env['HOST'] ?? '127.0.0.1';

// 'client': use the server's store as it is; this process stores no definitions of its own.
const ms = await createMainspring({ db, access: 'client' });

/** The seed's PutEventsCommand with one entry: the same fields, on mainspring's bus. */
async function publish(detailType: 'OrderCreated' | 'OrderShipped', detail: Record<string, unknown>) {
  const { entries } = await ms.events.put([{ source: 'orders', detailType, detail }]);
  const entry = entries[0]!;
  if (!('eventId' in entry)) throw new Error(`${detailType} was refused: ${entry.errorMessage}`);
  return entry.eventId;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  const body = text === '' ? {} : (JSON.parse(text) as unknown);
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const ship = /^\/orders\/([^/]+)\/ship$/.exec(path);
  void (async () => {
    if (req.method === 'POST' && path === '/orders') {
      const { userId } = await readJson(req);
      const orderId = `ord-${randomUUID().slice(0, 8)}`;
      const eventId = await publish('OrderCreated', { orderId, userId: userId ?? null });
      return send(res, 201, { orderId, eventId });
    }
    if (req.method === 'POST' && ship) {
      const orderId = decodeURIComponent(ship[1]!);
      return send(res, 200, { orderId, eventId: await publish('OrderShipped', { orderId }) });
    }
    send(res, 404, { error: `no route ${req.method} ${path}` });
  })().catch((err: unknown) => send(res, 500, { error: (err as Error).message }));
});

server.listen(port, host, () => {
  const { port: bound } = server.address() as AddressInfo;
  console.log(JSON.stringify({ msg: 'order service listening', url: `http://${host}:${bound}` }));
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    void ms.close().then(() => process.exit(0));
  });
}
