// The client's types, read off the contract's schemas: what each operation takes
// (path parameters, query, body) and what it answers, so no shape is written twice.

import type { Static, TSchema } from 'typebox';
import type { OperationId, OperationSpec, Operations } from '../contract/index.ts';

type SchemaOf<O extends OperationSpec> = O['schema'];
type Part<O extends OperationSpec, K extends string> =
  SchemaOf<O> extends { readonly [P in K]: infer S } ? (S extends TSchema ? Static<S> : never) : never;
type HasPart<O extends OperationSpec, K extends string> =
  SchemaOf<O> extends { readonly [P in K]: TSchema } ? true : false;

/** Optional when every field is, required otherwise. */
type Field<Name extends string, T> = object extends T
  ? { readonly [P in Name]?: T }
  : { readonly [P in Name]: T };

/** What a call sends besides the operation's own parts. */
export interface CallOptions {
  /** Ends the request (and a stream) early. */
  readonly signal?: AbortSignal;
  /** Extra request headers, e.g. `last-event-id`. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The request of an operation: `params` (path), `query` and `body` where it has them. */
export type RequestOf<K extends OperationId> = CallOptions &
  (HasPart<Operations[K], 'params'> extends true ? Field<'params', Part<Operations[K], 'params'>> : unknown) &
  (HasPart<Operations[K], 'querystring'> extends true
    ? { readonly query?: Part<Operations[K], 'querystring'> }
    : unknown) &
  (HasPart<Operations[K], 'body'> extends true
    ? Field<'body', Part<Operations[K], 'body'>>
    : Operations[K] extends { readonly rawBody: true }
      ? { readonly body?: unknown }
      : unknown);

type Success = 200 | 201 | 202 | 204;
type Responses<K extends OperationId> = Operations[K]['schema']['response'];

/** The body of an operation's 2xx answers (a union when it has several). */
export type ResponseOf<K extends OperationId> = {
  [S in Success & keyof Responses<K>]: Responses<K>[S] extends TSchema ? Static<Responses<K>[S]> : never;
}[Success & keyof Responses<K>];

/** One Server-Sent Event of a stream. */
export interface ServerSentEvent<T = unknown> {
  /** The `event:` name (`message` when the server gave none). */
  readonly event: string;
  readonly id?: string;
  /** The `data:` lines, parsed as JSON (the text itself when it is not JSON). */
  readonly data: T;
}

/** What a typed method returns: the answer's body, its text, or its events for a stream. */
export type ResultOf<K extends OperationId> = Operations[K] extends { readonly answer: 'sse' }
  ? AsyncIterable<ServerSentEvent<ResponseOf<K>>>
  : Operations[K] extends { readonly answer: 'text' }
    ? string
    : ResponseOf<K>;

/** Whether the request argument may be left out (nothing in it is required). */
export type MethodOf<K extends OperationId> =
  object extends RequestOf<K>
    ? (request?: RequestOf<K>) => Promise<ResultOf<K>>
    : (request: RequestOf<K>) => Promise<ResultOf<K>>;

/** One typed method per operationId. */
export type OperationMethods = { readonly [K in OperationId]: MethodOf<K> };
