// mainspringjs/client: a typed client of the HTTP API, built from the same operation table
// and TypeBox schemas as the server (src/contract/), so its methods, paths and types follow
// the routes. fetch-based, with no Node-only API: it runs in Node and in browsers.

import { OPERATIONS, type OperationId, type OperationSpec } from '../contract/index.ts';
import { MainspringApiError } from './error.ts';
import { readEvents } from './sse.ts';
import type { CallOptions, OperationMethods, RequestOf, ResponseOf, ServerSentEvent } from './types.ts';

export type {
  ApiError,
  Event,
  Execution,
  Lease,
  Message,
  Operation,
  OperationId,
  Queue,
  Run,
  RunLogLine,
  Schedule,
  Task,
} from '../contract/index.ts';
export { OPERATIONS } from '../contract/index.ts';
export { MainspringApiError } from './error.ts';
export type {
  CallOptions,
  MethodOf,
  OperationMethods,
  RequestOf,
  ResponseOf,
  ResultOf,
  ServerSentEvent,
} from './types.ts';

export interface ClientOptions {
  /** The server, e.g. `http://127.0.0.1:4000` (a path prefix is kept). */
  readonly baseUrl: string | URL;
  /** The API token (MAINSPRING_API_TOKEN or the read-only one), sent as `Authorization: Bearer`. */
  readonly token?: string | undefined;
  /** The fetch to call (default: the global one). */
  readonly fetch?: typeof globalThis.fetch;
}

/** An answer as it came: its status, headers and body. */
export interface RawAnswer<K extends OperationId> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: ResponseOf<K>;
}

/** The client: one method per operationId, plus `request` and `stream` for any operation. */
export type MainspringClient = OperationMethods & {
  /** Calls an operation and answers its status and headers with the body (e.g. 200 or 202 of a wait). */
  request<K extends OperationId>(operationId: K, request?: RequestOf<K>): Promise<RawAnswer<K>>;
  /** Calls an operation that streams Server-Sent Events (a log with `follow: '1'`, the changes). */
  stream<K extends OperationId>(operationId: K, request?: RequestOf<K>): AsyncIterable<ServerSentEvent>;
};

interface LooseRequest extends CallOptions {
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
}

/**
 * A typed client of a mainspring server's HTTP API. A non-2xx answer throws a
 * {@link MainspringApiError} carrying `status`, `code`, `message` and `details`.
 *
 * @example
 * import { createClient } from 'mainspringjs/client';
 *
 * const api = createClient({ baseUrl: 'http://127.0.0.1:4000', token: process.env.MAINSPRING_API_TOKEN });
 * const { id } = await api.sendMessage({ params: { name: 'emails' }, body: { body: { to: 'a@b.c' } } });
 * const { run } = await api.invokeFunction({ params: { name: 'report' }, body: { input: { day: '2027-01-01' }, wait: true } });
 * const page = await api.listRuns({ query: { status: 'failed', limit: '20' } });
 */
export function createClient(options: ClientOptions): MainspringClient {
  const base = String(options.baseUrl).replace(/\/+$/, '');
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);

  const send = async (op: OperationSpec, req: LooseRequest = {}, accept = 'application/json') => {
    const path = op.path.replace(/:(\w+)/g, (_m, name: string) => {
      const value = req.params?.[name];
      if (value === undefined) throw new TypeError(`${op.schema.operationId}: params.${name} is required`);
      return encodeURIComponent(value);
    });
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) query.set(k, String(v));
    const headers: Record<string, string> = { accept, ...req.headers };
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    const hasBody = (op.schema.body !== undefined || op.rawBody === true) && req.body !== undefined;
    if (hasBody) headers['content-type'] = 'application/json';
    const qs = query.size > 0 ? `?${query}` : '';
    const res = await fetchFn(`${base}${path}${qs}`, {
      method: op.method,
      headers,
      ...(hasBody ? { body: JSON.stringify(req.body) } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    if (!res.ok) throw MainspringApiError.fromBody(res.status, await res.text());
    return res;
  };

  const readBody = async (op: OperationSpec, res: Response): Promise<unknown> => {
    if (op.answer === 'text') return res.text();
    const text = await res.text();
    // 204 answers (and a bare 200 a proxy may give) carry no body.
    return text === '' ? null : JSON.parse(text);
  };

  const stream = (op: OperationSpec, req?: LooseRequest): AsyncIterable<ServerSentEvent> => ({
    async *[Symbol.asyncIterator]() {
      const res = await send(op, req, 'text/event-stream');
      if (!res.body) return;
      yield* readEvents(res.body);
    },
  });

  const client: Record<string, unknown> = {
    async request(operationId: OperationId, req?: LooseRequest) {
      const op = OPERATIONS[operationId];
      const res = await send(op, req);
      return { status: res.status, headers: res.headers, body: await readBody(op, res) };
    },
    stream: (operationId: OperationId, req?: LooseRequest) => stream(OPERATIONS[operationId], req),
  };
  for (const [id, op] of Object.entries(OPERATIONS) as [OperationId, OperationSpec][]) {
    client[id] =
      op.answer === 'sse'
        ? (req?: LooseRequest) => Promise.resolve(stream(op, req))
        : async (req?: LooseRequest) => readBody(op, await send(op, req));
  }
  return client as MainspringClient;
}
