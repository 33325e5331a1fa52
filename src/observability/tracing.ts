// Traces through the OpenTelemetry API only: mainspring registers no SDK. With none
// registered by the app every call here is a no-op (a non-recording span, an empty
// carrier), so an untraced app pays a few function calls per run and stores nothing.
//
// The context a message is sent in (or an execution started in) is injected into a small
// carrier with the app's propagator (W3C `traceparent`/`tracestate` when it registered
// that one) and stored with it as JSON text; the run or replay it causes extracts it and
// makes it the parent of its span (docs/observability.md).

import {
  type Attributes,
  type Context,
  context,
  INVALID_SPANID,
  INVALID_TRACEID,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';

/** The tracer every mainspring span comes from (instrumentation scope `mainspringjs`). */
export const tracer: Tracer = trace.getTracer('mainspringjs');

/**
 * The active trace context as JSON text of its carrier, or null when there is nothing to
 * carry (no propagator registered, or no span active): then nothing is stored.
 */
export function captureTraceContext(ctx: Context = context.active()): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  for (const _ in carrier) return JSON.stringify(carrier);
  return null;
}

/** The context a stored carrier (captureTraceContext) describes, or null when it holds none. */
export function restoreTraceContext(stored: string | null | undefined): Context | null {
  if (stored == null) return null;
  let carrier: unknown;
  try {
    carrier = JSON.parse(stored);
  } catch {
    return null;
  }
  if (typeof carrier !== 'object' || carrier === null) return null;
  const ctx = propagation.extract(ROOT_CONTEXT, carrier as Record<string, string>);
  return trace.getSpanContext(ctx) === undefined ? null : ctx;
}

const NO_LINKS: Link[] = [];
/** Work stored with no trace context: a run of its own (shared: most runs have none). */
const NO_PARENT = { parent: ROOT_CONTEXT, links: NO_LINKS } as const;

/**
 * Where a span caused by stored work hangs: one stored context is its parent; several (a
 * batch of messages sent in different traces) are its links. Work stored with none starts a
 * trace of its own (ROOT_CONTEXT), whatever context the worker happens to run in.
 */
export function parentOf(stored: readonly (string | null)[] | undefined): {
  readonly parent: Context;
  readonly links: Link[];
} {
  if (stored === undefined || stored.length === 0) return NO_PARENT;
  if (stored.length === 1) return { parent: restoreTraceContext(stored[0]) ?? ROOT_CONTEXT, links: NO_LINKS };
  const links: Link[] = [];
  for (const s of stored) {
    const sc = s === null ? undefined : trace.getSpanContext(restoreTraceContext(s) ?? ROOT_CONTEXT);
    if (sc !== undefined) links.push({ context: sc });
  }
  return { parent: ROOT_CONTEXT, links };
}

/**
 * Starts a span under `parent`. Attributes are set only on a recording span: a no-op
 * tracer's span costs no attribute object.
 */
export function startSpan(
  name: string,
  kind: SpanKind,
  parent: Context,
  attributes: () => Attributes,
  links: Link[] = NO_LINKS,
): Span {
  const span = tracer.startSpan(name, links.length > 0 ? { kind, links } : { kind }, parent);
  if (span.isRecording()) span.setAttributes(attributes());
  return span;
}

/**
 * The context to run work in with `span` active under `parent`, or null when there is nothing
 * to carry (a no-op span with no valid context): the caller then runs the work as it is.
 */
export function spanContext(span: Span, parent: Context): Context | null {
  // A tracer's own span has well-formed ids or the invalid ones: comparing with those is
  // enough (isSpanContextValid runs two regular expressions, most of a no-op run's cost).
  const sc = span.spanContext();
  if (sc.traceId === INVALID_TRACEID || sc.spanId === INVALID_SPANID) return null;
  return trace.setSpan(parent, span);
}

/** Runs `fn` in `ctx` when there is one, else as it is. */
export function runIn<T>(ctx: Context | null, fn: () => T): T {
  return ctx === null ? fn() : context.with(ctx, fn);
}

/** Marks a span failed with what was thrown. */
export function spanFailed(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  const e = err instanceof Error ? err : new Error(typeof err === 'string' ? err : JSON.stringify(err));
  span.recordException(e);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
}

/** The W3C `traceparent`/`tracestate` of a span's context, for a child process's environment. */
export function traceEnv(span: Span): Record<string, string> {
  const ctx = spanContext(span, ROOT_CONTEXT);
  if (ctx === null) return {};
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  const env: Record<string, string> = {};
  if (carrier['traceparent']) env['TRACEPARENT'] = carrier['traceparent'];
  if (carrier['tracestate']) env['TRACESTATE'] = carrier['tracestate'];
  return env;
}

/**
 * Wraps an HTTP route handler in a server span named by its route template (`POST
 * /v1/queues/:name/messages`, never the raw URL), child of the request's `traceparent`,
 * active while the handler runs; it ends when the response closes, with its status code.
 */
export function traceRoute<H extends (this: never, ...args: never[]) => unknown>(
  handler: H,
  method: string,
  route: string,
): H {
  const name = `${method} ${route}`;
  return function (this: never, ...args: never[]) {
    // Fastify's (request, reply), read structurally: this module knows no HTTP framework.
    const req = args[0] as { headers?: Record<string, string | string[] | undefined> } | undefined;
    const reply = args[1] as
      | { raw?: { once(e: string, f: () => void): void; statusCode: number } }
      | undefined;
    const parent = propagation.extract(ROOT_CONTEXT, req?.headers ?? {});
    const span = tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
    const ctx = spanContext(span, parent);
    if (ctx === null) return handler.apply(this, args);
    if (span.isRecording()) {
      span.setAttributes({ 'http.request.method': method, 'http.route': route });
      const res = reply?.raw;
      if (res) {
        let ended = false;
        const end = () => {
          if (ended) return;
          ended = true;
          span.setAttribute('http.response.status_code', res.statusCode);
          if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        };
        // 'finish' once the answer is sent; 'close' too when the client left first.
        res.once('finish', end);
        res.once('close', end);
      } else {
        queueMicrotask(() => span.end());
      }
    }
    return context.with(ctx, () => handler.apply(this, args));
  } as H;
}

export type { Context, Link, Span };
export { ROOT_CONTEXT, SpanKind, SpanStatusCode };
