// Browser tests of the dashboard: Debian's Chromium driven by playwright-core, against a
// real HTTP server on loopback (the API `mainspring start` serves, built the same way) on
// an app with a fake clock, so a test sets up state and moves time itself.

import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, expect, vi } from 'vitest';
import { type Api, buildApi, listenApi } from '../../src/api/server.ts';
import type { CreateMainspringOptions, Mainspring } from '../../src/app.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import { fakeApp } from '../helpers/app.ts';
import type { BackendFixture } from '../helpers/backends.ts';

let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
const servers: Api[] = [];

/** One browser per test file, started on first use. */
export async function getBrowser(): Promise<Browser> {
  browser ??= await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  return browser;
}

afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
  // Before the app closes (fakeApp's afterEach), so no request reaches a closed store.
  for (const s of servers.splice(0)) await s.close().catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  browser = undefined;
});

export interface DashboardServer {
  readonly url: string;
  readonly ms: Mainspring;
  readonly clock: FakeClock;
  /** Cuts every open connection (streams included), as a proxy restart or a network drop would. */
  dropConnections(): void;
  /** Calls the API as a client would (with the full token when one is set). */
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }>;
}

export interface ServerOptions extends Omit<CreateMainspringOptions, 'db' | 'clock'> {
  readonly token?: string;
  readonly readToken?: string;
  readonly url?: string;
  readonly start?: string;
}

export async function dashboardServer(
  backend: BackendFixture,
  options: ServerOptions = {},
): Promise<DashboardServer> {
  const { token, readToken, ...appOptions } = options;
  const { ms, clock } = await fakeApp(backend, appOptions);
  const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024, token, readToken });
  servers.push(api);
  const { url } = await listenApi(api, { host: '127.0.0.1', port: 0, token });
  return {
    url,
    ms,
    clock,
    dropConnections: () => api.server.closeAllConnections(),
    async call(method, path, body) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, json: (text ? JSON.parse(text) : undefined) as never };
    },
  };
}

export interface OpenPage {
  readonly page: Page;
  /** Console errors and uncaught exceptions seen so far; a test ends by expecting none. */
  readonly errors: string[];
  /** Expects no console error but those matching `allow` (e.g. a 400 the test provoked). */
  expectNoErrors(allow?: RegExp): void;
}

/**
 * Opens `path` (a hash route such as `#/runs`) in a new browser context. With `token`, it is
 * typed into the dashboard's token form as a person would.
 */
export async function openDashboard(
  server: { url: string },
  path = '#/',
  options: {
    token?: string;
    viewport?: { width: number; height: number };
    colorScheme?: 'light' | 'dark';
    /** Routes set on the page before it loads (e.g. holding back the change stream). */
    route?: (page: Page) => Promise<unknown>;
  } = {},
): Promise<OpenPage> {
  const b = await getBrowser();
  const context = await b.newContext({
    viewport: options.viewport ?? { width: 1280, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
  });
  contexts.push(context);
  // Fail a stuck action with the locator it waited for, well inside the test's own timeout.
  context.setDefaultTimeout(8000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  // Nothing may leave the machine: any request to another host fails the test.
  await context.route(
    (u) => !u.href.startsWith(server.url),
    (route) => {
      errors.push(`request left the server: ${route.request().url()}`);
      return route.abort();
    },
  );
  await options.route?.(page);
  await page.goto(`${server.url}/${path}`);
  if (options.token) {
    await page.getByLabel('API token').fill(options.token);
    await page.getByRole('button', { name: 'Open the dashboard' }).click();
  }
  return {
    page,
    errors,
    expectNoErrors(allow) {
      expect(errors.filter((e) => !allow?.test(e))).toEqual([]);
    },
  };
}

// playwright-core has no `expect` of its own: these wait the way its assertions would.
const WAIT = { timeout: 10_000, interval: 50 };

/** Waits until the locator's element is visible. */
export async function visible(locator: Locator): Promise<void> {
  await locator.first().waitFor({ state: 'visible', timeout: WAIT.timeout });
}

/** Waits until the locator's (first) element's text contains `text` (or matches it). */
export async function hasText(locator: Locator, text: string | RegExp): Promise<void> {
  await vi.waitFor(async () => {
    const t = (await locator.first().textContent({ timeout: 1000 })) ?? '';
    if (typeof text === 'string') expect(t).toContain(text);
    else expect(t).toMatch(text);
  }, WAIT);
}

/** Waits until `count()` of the locator is `n`. */
export async function hasCount(locator: Locator, n: number): Promise<void> {
  await vi.waitFor(async () => expect(await locator.count()).toBe(n), WAIT);
}

/** Waits until `check` stops throwing (for state read through the API). */
export function eventually<T>(check: () => T | Promise<T>): Promise<T> {
  return vi.waitFor(check, WAIT);
}
