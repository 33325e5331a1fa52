// The CLI's one way to operate mainspring: requests to the HTTP API. A transport carries
// them either to a server over HTTP (`--url`) or to an API built in this process over the
// store (no `--url`), so both modes share every command's code and print the same output.

import { ERROR_CODES, type ErrorCode, MainspringError } from '../core/errors.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface ApiRequest {
  readonly method: Method;
  readonly path: string;
  readonly query?: Query;
  readonly body?: unknown;
}

export interface ApiResponse {
  readonly status: number;
  /** Parsed JSON, or the text when the body is not JSON. */
  readonly body: unknown;
}

export interface StreamResponse {
  readonly status: number;
  /** The body as it arrives; read whole (and parsed) when the status is not 2xx. */
  readonly chunks: AsyncIterable<Uint8Array | string>;
}

export interface Transport {
  /** What requests reach, for messages: the server's URL or the store's. */
  readonly target: string;
  send(request: ApiRequest): Promise<ApiResponse>;
  stream(request: ApiRequest, signal: AbortSignal): Promise<StreamResponse>;
  close(): Promise<void>;
}

export interface ServerSentEvent {
  readonly event: string;
  readonly id: string | null;
  readonly data: string;
}

export function pathWithQuery(path: string, query: Query | undefined): string {
  if (query === undefined) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const q = params.toString();
  return q === '' ? path : `${path}?${q}`;
}

/** The API's error body as a MainspringError, so the CLI reports it as it reports its own. */
export function apiError(status: number, body: unknown, target: string): MainspringError {
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (typeof e?.code === 'string' && typeof e.message === 'string' && Object.hasOwn(ERROR_CODES, e.code)) {
    return new MainspringError(e.code as ErrorCode, e.message, { details: e.details });
  }
  const text = typeof body === 'string' ? body.slice(0, 200) : JSON.stringify(body)?.slice(0, 200);
  return new MainspringError(
    status === 401 ? 'E_UNAUTHORIZED' : status === 404 ? 'E_NOT_FOUND' : 'E_INTERNAL',
    `${target} answered HTTP ${status}${text ? `: ${text}` : ''}; is --url a mainspring server?`,
    { details: { status } },
  );
}

export class ApiClient {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  get target(): string {
    return this.#transport.target;
  }

  async request<T>(
    method: Method,
    path: string,
    options: { query?: Query; body?: unknown } = {},
  ): Promise<T> {
    return (await this.call<T>(method, path, options)).body;
  }

  /** A request whose 2xx status matters to the caller (200 against 202); errors throw. */
  async call<T>(
    method: Method,
    path: string,
    options: { query?: Query; body?: unknown } = {},
  ): Promise<{ status: number; body: T }> {
    const res = await this.#transport.send({ method, path, ...options });
    if (res.status >= 200 && res.status < 300) return { status: res.status, body: res.body as T };
    throw apiError(res.status, res.body, this.#transport.target);
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, query === undefined ? {} : { query });
  }

  post<T>(path: string, body?: unknown, query?: Query): Promise<T> {
    return this.request<T>('POST', path, { body: body ?? {}, ...(query === undefined ? {} : { query }) });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body });
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  delete<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('DELETE', path, query === undefined ? {} : { query });
  }

  /** Server-Sent Events of a GET, until the server ends the stream or `signal` fires. */
  async *events(path: string, query: Query, signal: AbortSignal): AsyncGenerator<ServerSentEvent> {
    let res: StreamResponse;
    try {
      res = await this.#transport.stream({ method: 'GET', path, query }, signal);
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
    if (res.status < 200 || res.status >= 300) {
      let text = '';
      for await (const c of res.chunks) text += typeof c === 'string' ? c : Buffer.from(c).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      throw apiError(res.status, body, this.#transport.target);
    }
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.chunks) {
        buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const event = parseEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (event !== null) yield event;
          end = buffer.indexOf('\n\n');
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
  }

  close(): Promise<void> {
    return this.#transport.close();
  }
}

/** One SSE block; comments (keepalives) give null. */
function parseEvent(block: string): ServerSentEvent | null {
  let event = 'message';
  let id: string | null = null;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
  return data.length === 0 && event === 'message' ? null : { event, id, data: data.join('\n') };
}
