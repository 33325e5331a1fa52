// What one operation of the HTTP API is: its method, its path (Fastify's `:param` form)
// and the part of its route schema a client needs (operationId, params, query, body,
// answers). The server spreads `schema` into its route; the client builds its methods
// from the same table, so the two cannot drift apart.

import type { TSchema } from 'typebox';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface OperationSpec {
  readonly method: HttpMethod;
  readonly path: string;
  /** How the answer is read: JSON (default), plain text, or a Server-Sent Events stream. */
  readonly answer?: 'json' | 'text' | 'sse';
  /** The route reads its body raw (any content type, no schema): the client sends any JSON. */
  readonly rawBody?: boolean;
  readonly schema: {
    readonly operationId: string;
    readonly params?: TSchema;
    readonly querystring?: TSchema;
    readonly body?: TSchema;
    readonly headers?: TSchema;
    readonly response: Readonly<Record<number, TSchema>>;
  };
}

/** Keeps an operation's literal types (its schemas' static types reach the client). */
export const operation = <const O extends OperationSpec>(o: O): O => o;
