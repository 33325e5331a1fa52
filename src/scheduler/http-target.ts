// HTTP targets: a tick that sends a request is a run of a built-in function, so it
// gets the same record, retries, timeout and alerts as any other. Requests go only
// to hosts on the app's allow-list, checked when the schedule is saved and again
// when the request is sent (the list may have changed since).

import { MainspringError } from '../core/errors.ts';
import { NonRetryableError, RetryAfterError } from '../functions/errors.ts';
import { defineFunction, type FunctionDefinition } from '../runtime/function.ts';
import type { HttpMethod } from './spec.ts';

/** The built-in function HTTP targets invoke. */
export const HTTP_FUNCTION = 'mainspring:http';

export interface HttpRequestInput {
  readonly url: string;
  readonly method: HttpMethod;
  readonly headers: Readonly<Record<string, string>>;
  /** Sent as JSON unless null (GET and DELETE send none). */
  readonly body: unknown;
  readonly timeoutMs: number;
}

/** Whether `url`'s host is on the list: exact host names, `*.example.com` for subdomains, `host:port` to pin a port. */
export function hostAllowed(url: URL, allowList: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  const port = url.port;
  return allowList.some((entry) => {
    const e = entry.trim().toLowerCase();
    const [pattern, pinned] = e.startsWith('[') ? [e, undefined] : (e.split(':') as [string, string?]);
    if (pinned !== undefined && pinned !== port) return false;
    if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
    return host === pattern;
  });
}

/** The allow-list error, naming the host and where to add it. */
export function notAllowed(url: URL, field: string): MainspringError {
  return new MainspringError(
    'E_SCHEDULE_INVALID',
    `${field}: host "${url.host}" is not on the HTTP target allow-list; add it to scheduler.httpAllowList in the config`,
    { details: { field, value: url.href } },
  );
}

/** The built-in function that sends an HTTP target's request; 2xx is success, 4xx (but 429) is not retried. */
export function httpTargetFunction(allowList: readonly string[]): FunctionDefinition {
  return defineFunction<HttpRequestInput, { status: number; body: string }>({
    name: HTTP_FUNCTION,
    timeout: '16m',
    retry: { maxAttempts: 3 },
    handler: async (req, ctx) => {
      const url = new URL(req.url);
      if (!hostAllowed(url, allowList)) throw new NonRetryableError(notAllowed(url, 'target.url').message);
      const send =
        req.body !== null && req.body !== undefined && req.method !== 'GET' && req.method !== 'DELETE';
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(req.timeoutMs)]);
      const response = await fetch(url, {
        method: req.method,
        headers: {
          'user-agent': 'mainspring',
          ...(send ? { 'content-type': 'application/json' } : {}),
          ...req.headers,
        },
        ...(send ? { body: JSON.stringify(req.body) } : {}),
        signal,
        redirect: 'manual',
      });
      // Kept short: the run's result is for reading, not for storing responses.
      const text = (await response.text()).slice(0, 4096);
      ctx.log.info({ status: response.status, method: req.method, url: url.href }, 'HTTP target answered');
      if (response.ok) return { status: response.status, body: text };
      const message = `HTTP ${response.status} from ${req.method} ${url.href}`;
      if (response.status === 429) {
        const after = Number(response.headers.get('retry-after'));
        throw new RetryAfterError(Number.isFinite(after) && after > 0 ? after * 1000 : 1000, message);
      }
      if (response.status >= 500) throw new Error(message);
      throw new NonRetryableError(message);
    },
  });
}
