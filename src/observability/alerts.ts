// Alerts after a run's final failure or timeout: JSON POSTed to webhooks and plain-text
// e-mail over SMTP, each retried with exponential backoff on the injected clock. This
// module owns validating the user's alert settings and delivering; deciding *when* a
// run deserves an alert belongs to the runtime.

import { createTransport } from 'nodemailer';
import pino, { type Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { MainspringError } from '../core/errors.ts';
import type { Metrics } from './metrics.ts';

/**
 * Where alerts go, as users write it: globally in the config and per function.
 *
 * @example
 * ```ts
 * const alerts: AlertSettings = {
 *   webhooks: ['https://hooks.example.com/mainspring'],
 *   email: { smtp: 'smtp://user:pass@mail.example.com:587', from: 'mainspring@example.com', to: 'ops@example.com' },
 * };
 * ```
 */
export interface AlertSettings {
  /** http(s) URLs; each alert is POSTed to them as JSON. */
  readonly webhooks?: readonly string[];
  readonly email?: {
    /** `smtp://` or `smtps://` URL, e.g. `smtp://user:pass@host:587`. */
    readonly smtp: string;
    readonly from: string;
    readonly to: readonly string[] | string;
  };
}

/** AlertSettings validated, with URLs normalised and `to` always a list. */
export interface ResolvedAlertSettings {
  readonly webhooks: readonly string[];
  readonly email: ResolvedEmailSettings | null;
}

export interface ResolvedEmailSettings {
  readonly smtp: string;
  readonly from: string;
  readonly to: readonly string[];
}

/** The alert as sent: the webhook body, and the facts of the e-mail. */
export interface Alert {
  readonly function: string;
  readonly runId: string;
  readonly invocationId: string;
  readonly attempt: number;
  readonly status: 'failed' | 'timed_out';
  readonly error: {
    readonly name: string;
    readonly message: string;
    readonly code?: string;
    readonly exitCode?: number | null;
  };
  readonly trigger: unknown;
  readonly startedAt: string | null;
  readonly finishedAt: string;
  /** URL of the run, e.g. `${baseUrl}/v1/runs/${runId}`. */
  readonly link: string;
}

/** The outcome of one target. `target` is safe to log: it carries no credentials. */
export interface AlertDelivery {
  readonly kind: 'webhook' | 'email';
  readonly target: string;
  readonly ok: boolean;
  readonly attempts: number;
  readonly error?: string;
}

export interface AlerterOptions {
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /** Tries per target, the first included. Default 5. */
  readonly attempts?: number;
  /** Wait before the second try; doubles per try, capped at 60 s. Default 1000. */
  readonly baseDelayMs?: number;
  /** Limit of one request (or one SMTP conversation). Default 10 s. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

const MAX_DELAY_MS = 60_000;
const SUBJECT_MAX = 120;
const KEYS = new Set(['webhooks', 'email']);
const EMAIL_KEYS = new Set(['smtp', 'from', 'to']);
// Deliberately loose: nodemailer and the SMTP server do the real parsing; this catches
// the mistakes people make in a config file (a name, a list in one string, a typo'd @).
const ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;
const NAMED_ADDRESS = /^[^<>]*<([^<>]+)>$/;

function invalid(field: string, message: string, value: unknown): never {
  throw new MainspringError('E_ALERT_INVALID', `${field}${message}`, { details: { field, value } });
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: Set<string>, field: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) {
      invalid(
        `${field}.${key}`,
        ` is not a setting; use ${[...allowed].map((k) => `'${k}'`).join(' or ')}`,
        value[key],
      );
    }
  }
}

function checkAddress(value: unknown, field: string): string {
  if (typeof value !== 'string') {
    return invalid(field, ` is ${show(value)}; give an e-mail address such as 'ops@example.com'`, value);
  }
  const text = value.trim();
  const bare = NAMED_ADDRESS.exec(text)?.[1]?.trim() ?? text;
  if (!ADDRESS.test(bare)) {
    return invalid(
      field,
      ` is ${show(value)}, which is not an e-mail address; give one address such as 'ops@example.com' or 'Ops <ops@example.com>' (a list goes in an array)`,
      value,
    );
  }
  return text;
}

function checkUrl(value: unknown, field: string, protocols: readonly string[], example: string): URL {
  const fix = `give an absolute ${protocols.map((p) => `${p}//`).join(' or ')} URL such as '${example}'`;
  if (typeof value !== 'string' || value.trim() === '') {
    return invalid(field, ` is ${show(value)}; ${fix}`, value);
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return invalid(field, ` is ${show(value)}, which is not an absolute URL; ${fix}`, value);
  }
  if (!protocols.includes(url.protocol)) {
    return invalid(field, ` is ${show(redactUrl(url))}, whose scheme is ${url.protocol}; ${fix}`, value);
  }
  if (url.hostname === '')
    return invalid(field, ` is ${show(redactUrl(url))}, which has no host; ${fix}`, value);
  return url;
}

/**
 * Validates alert settings from a config file, naming `field` in any error
 * (`E_ALERT_INVALID`). `undefined` and `null` mean no alerts.
 *
 * @example
 * ```ts
 * const global = resolveAlertSettings(config.alerts, 'alerts');
 * const perFn = resolveAlertSettings(fn.alerts, 'functions[2].alerts');
 * ```
 */
export function resolveAlertSettings(value: unknown, field: string): ResolvedAlertSettings {
  if (value === undefined || value === null) return { webhooks: [], email: null };
  if (!isPlainObject(value)) {
    return invalid(field, ` is ${show(value)}; give an object with 'webhooks' and/or 'email'`, value);
  }
  checkKeys(value, KEYS, field);

  const webhooks: string[] = [];
  const rawHooks = value['webhooks'];
  if (rawHooks !== undefined) {
    if (!Array.isArray(rawHooks)) {
      invalid(
        `${field}.webhooks`,
        ` is ${show(rawHooks)}; give a list of URLs such as ['https://hooks.example.com/alerts']`,
        rawHooks,
      );
    }
    rawHooks.forEach((hook, i) => {
      const url = checkUrl(
        hook,
        `${field}.webhooks[${i}]`,
        ['http:', 'https:'],
        'https://hooks.example.com/alerts',
      );
      if (!webhooks.includes(url.href)) webhooks.push(url.href);
    });
  }

  let email: ResolvedEmailSettings | null = null;
  const rawEmail = value['email'];
  if (rawEmail !== undefined) {
    const f = `${field}.email`;
    if (!isPlainObject(rawEmail)) {
      invalid(f, ` is ${show(rawEmail)}; give an object with 'smtp', 'from' and 'to'`, rawEmail);
    }
    checkKeys(rawEmail, EMAIL_KEYS, f);
    const smtp = checkUrl(
      rawEmail['smtp'],
      `${f}.smtp`,
      ['smtp:', 'smtps:'],
      'smtp://user:pass@mail.example.com:587',
    );
    if (rawEmail['from'] === undefined) {
      invalid(
        `${f}.from`,
        ` is missing; give the sender's address such as 'mainspring@example.com'`,
        undefined,
      );
    }
    const from = checkAddress(rawEmail['from'], `${f}.from`);
    const rawTo = rawEmail['to'];
    if (rawTo === undefined || (Array.isArray(rawTo) && rawTo.length === 0)) {
      invalid(`${f}.to`, ` is ${show(rawTo)}; give at least one recipient such as 'ops@example.com'`, rawTo);
    }
    const to = Array.isArray(rawTo)
      ? rawTo.map((a, i) => checkAddress(a, `${f}.to[${i}]`))
      : [checkAddress(rawTo, `${f}.to`)];
    email = { smtp: smtp.href, from, to: [...new Set(to)] };
  }
  return { webhooks, email };
}

/** A URL without its credentials and query string, fit for logs and errors. */
function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  copy.search = '';
  copy.hash = '';
  return copy.href;
}

/** Origin only, for metric labels: webhook paths often hold the secret (Slack, Discord, Teams). */
function originOf(href: string): string {
  const url = new URL(href);
  return `${url.protocol}//${url.host}`;
}

interface EmailTarget {
  readonly smtp: string;
  readonly from: string;
  readonly to: string[];
}

/** Why a try failed and whether another may succeed. */
class DeliveryError extends Error {
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryable: boolean, retryAfterMs?: number) {
    super(message);
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The run an alert is about, and how its attempt ended. */
export interface AlertingRun {
  readonly function: string;
  readonly runId: string;
  readonly invocationId: string;
  readonly attempt: number;
  readonly trigger: unknown;
  readonly timedOut: boolean;
  readonly error: {
    readonly name: string;
    readonly message: string;
    readonly code?: string | undefined;
    readonly exitCode?: number | null | undefined;
  } | null;
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
}

/** The alert for a run that failed for good or timed out; `baseUrl` is where its link points. */
export function runAlert(run: AlertingRun, baseUrl: string): Alert {
  const error = run.error ?? { name: 'Error', message: 'failed' };
  return {
    function: run.function,
    runId: run.runId,
    invocationId: run.invocationId,
    attempt: run.attempt,
    status: run.timedOut ? 'timed_out' : 'failed',
    error: {
      name: error.name,
      message: error.message,
      ...(error.code !== undefined ? { code: error.code } : {}),
      ...(error.exitCode !== undefined ? { exitCode: error.exitCode } : {}),
    },
    trigger: run.trigger,
    startedAt: new Date(run.startedAtMs).toISOString(),
    finishedAt: new Date(run.finishedAtMs).toISOString(),
    link: `${baseUrl}/v1/runs/${encodeURIComponent(run.runId)}`,
  };
}

/** The e-mail subject for `alert`: `[mainspring] send-receipt failed: <error message>`. */
export function alertSubject(alert: Alert): string {
  const what = alert.status === 'timed_out' ? 'timed out' : 'failed';
  return oneLine(`[mainspring] ${alert.function} ${what}: ${alert.error.message}`, SUBJECT_MAX);
}

/** The plain-text e-mail body for `alert`. */
export function alertText(alert: Alert): string {
  const e = alert.error;
  const lines = [
    `Function:    ${alert.function}`,
    `Status:      ${alert.status}`,
    `Attempt:     ${alert.attempt}`,
    `Run:         ${alert.runId}`,
    `Invocation:  ${alert.invocationId}`,
    `Started at:  ${alert.startedAt ?? '-'}`,
    `Finished at: ${alert.finishedAt}`,
    '',
    `Error: ${e.name}${e.code ? ` (${e.code})` : ''}${e.exitCode !== undefined && e.exitCode !== null ? `, exit code ${e.exitCode}` : ''}`,
    e.message,
    '',
    `Trigger: ${show(alert.trigger)}`,
    '',
    `Details: ${alert.link}`,
    '',
  ];
  return lines.join('\n');
}

type Transport = ReturnType<typeof createTransport>;

/**
 * Delivers alerts to webhooks and by e-mail, retrying each target on its own.
 *
 * @example
 * ```ts
 * const alerter = new Alerter({ clock, logger, metrics });
 * const deliveries = await alerter.send(alert, [globalAlerts, fnAlerts]);
 * // on shutdown:
 * await alerter.idle();
 * alerter.close();
 * ```
 */
export class Alerter {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #attempts: number;
  readonly #baseDelayMs: number;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #transports = new Map<string, Transport>();
  readonly #inFlight = new Set<Promise<unknown>>();
  // Aborted by idle() when its limit passes: backoffs stop and deliveries give up.
  #stop = new AbortController();

  constructor(options: AlerterOptions) {
    this.#clock = options.clock;
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#metrics = options.metrics;
    this.#attempts = Math.max(1, Math.floor(options.attempts ?? 5));
    this.#baseDelayMs = Math.max(0, options.baseDelayMs ?? 1000);
    this.#timeoutMs = Math.max(1, options.timeoutMs ?? 10_000);
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /**
   * Sends `alert` to the union of `settings` (identical webhook URLs once; e-mails through
   * the same server and sender merged into one). Resolves when every target succeeded or
   * gave up; never rejects.
   */
  send(alert: Alert, settings: readonly ResolvedAlertSettings[]): Promise<AlertDelivery[]> {
    const webhooks = new Set<string>();
    const emails = new Map<string, EmailTarget>();
    for (const s of settings) {
      for (const hook of s.webhooks) webhooks.add(hook);
      if (s.email) {
        const key = `${s.email.smtp}\n${s.email.from}`;
        const existing = emails.get(key);
        if (existing) {
          for (const to of s.email.to) if (!existing.to.includes(to)) existing.to.push(to);
        } else {
          emails.set(key, { smtp: s.email.smtp, from: s.email.from, to: [...s.email.to] });
        }
      }
    }
    const body = JSON.stringify(alert);
    const jobs: Promise<AlertDelivery>[] = [];
    for (const url of webhooks) jobs.push(this.#track(this.#deliverWebhook(alert, url, body)));
    for (const email of emails.values()) jobs.push(this.#track(this.#deliverEmail(alert, email)));
    return Promise.all(jobs);
  }

  /**
   * Waits for deliveries in flight, at most `timeoutMs` of real time; after that their
   * retries are abandoned (each reports failure) and the wait ends once they have.
   */
  async idle(timeoutMs = 30_000): Promise<void> {
    if (this.#inFlight.size === 0) return;
    const limit = new AbortController();
    const expired = this.#clock.sleep(this.#clock.real(timeoutMs), limit.signal).then(
      () => true,
      () => false,
    );
    const drained = this.#drain().then(() => false);
    const timedOut = await Promise.race([drained, expired]);
    limit.abort();
    if (timedOut) {
      this.#stop.abort(new Error('alerter shutting down'));
      await this.#drain();
      this.#stop = new AbortController();
    }
  }

  /** Closes the SMTP connections. Call after idle(). */
  close(): void {
    for (const transport of this.#transports.values()) transport.close();
    this.#transports.clear();
  }

  async #drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #track<T>(job: Promise<T>): Promise<T> {
    this.#inFlight.add(job);
    void job.finally(() => this.#inFlight.delete(job));
    return job;
  }

  async #deliverWebhook(alert: Alert, url: string, body: string): Promise<AlertDelivery> {
    const parsed = new URL(url);
    const target = redactUrl(parsed);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'mainspring',
    };
    // fetch refuses URLs with credentials; send them as HTTP Basic auth instead.
    if (parsed.username !== '' || parsed.password !== '') {
      const user = decodeURIComponent(parsed.username);
      const pass = decodeURIComponent(parsed.password);
      headers['authorization'] = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
      parsed.username = '';
      parsed.password = '';
    }
    const result = await this.#withRetries(async () => {
      let response: Response;
      try {
        response = await this.#fetch(parsed.href, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(this.#timeoutMs),
          // A redirected POST may lose its body or land elsewhere; report it instead of following.
          redirect: 'manual',
        });
      } catch (err) {
        throw new DeliveryError(describeError(err), true);
      }
      // Drain the body so the connection can be reused.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return;
      if (response.status >= 300 && response.status < 400) {
        const location = response.headers.get('location');
        throw new DeliveryError(
          `HTTP ${response.status} redirect${location ? ` to ${location}` : ''}; redirects are not followed, configure the final URL`,
          false,
        );
      }
      const retryable = response.status >= 500 || response.status === 429;
      throw new DeliveryError(
        `HTTP ${response.status}`,
        retryable,
        response.status === 429 ? retryAfterMs(response.headers.get('retry-after')) : undefined,
      );
    });
    return this.#report(alert, { kind: 'webhook', target, ...result }, 'alert-webhook', originOf(url));
  }

  async #deliverEmail(alert: Alert, email: EmailTarget): Promise<AlertDelivery> {
    const smtp = redactUrl(new URL(email.smtp));
    const target = `mailto:${email.to.join(',')}`;
    const result = await this.#withRetries(async () => {
      try {
        await this.#transport(email.smtp).sendMail({
          from: email.from,
          to: email.to,
          subject: alertSubject(alert),
          text: alertText(alert),
        });
      } catch (err) {
        // SMTP 5xx replies are permanent (bad recipient, relay denied); 4xx and network errors are not.
        const code = (err as { responseCode?: unknown }).responseCode;
        const permanent = typeof code === 'number' && code >= 500;
        throw new DeliveryError(`${smtp}: ${describeError(err)}`, !permanent);
      }
    });
    return this.#report(alert, { kind: 'email', target, ...result }, 'alert-email', originOf(smtp));
  }

  #transport(smtp: string): Transport {
    let transport = this.#transports.get(smtp);
    if (!transport) {
      transport = createTransport({
        url: smtp,
        connectionTimeout: this.#timeoutMs,
        greetingTimeout: this.#timeoutMs,
        socketTimeout: this.#timeoutMs,
      });
      this.#transports.set(smtp, transport);
    }
    return transport;
  }

  #report(alert: Alert, delivery: AlertDelivery, metricKind: string, metricTarget: string): AlertDelivery {
    if (!delivery.ok) {
      this.#log.warn(
        {
          function: alert.function,
          runId: alert.runId,
          kind: delivery.kind,
          target: delivery.target,
          attempts: delivery.attempts,
          err: delivery.error,
        },
        'alert delivery failed',
      );
      this.#metrics?.deliveryFailed(metricKind, metricTarget);
    }
    return delivery;
  }

  async #withRetries(
    attempt: () => Promise<void>,
  ): Promise<{ ok: boolean; attempts: number; error?: string }> {
    const stop = this.#stop.signal;
    let error = 'not attempted';
    for (let n = 1; n <= this.#attempts; n++) {
      try {
        await attempt();
        return { ok: true, attempts: n };
      } catch (err) {
        const failure = err instanceof DeliveryError ? err : new DeliveryError(describeError(err), true);
        error = failure.message;
        if (!failure.retryable || n === this.#attempts) return { ok: false, attempts: n, error };
        const backoff = Math.min(this.#baseDelayMs * 2 ** (n - 1), MAX_DELAY_MS);
        const delay = Math.min(Math.max(backoff, failure.retryAfterMs ?? 0), MAX_DELAY_MS);
        try {
          // Real time, like the request's own timeout: the receiving server recovers at real speed.
          await this.#clock.sleep(this.#clock.real(delay), stop);
        } catch {
          return { ok: false, attempts: n, error: `${error} (gave up: shutting down)` };
        }
      }
    }
    return { ok: false, attempts: this.#attempts, error };
  }
}
