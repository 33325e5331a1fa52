// The dashboard's shell through a real browser: served at /, asks for the token once and
// keeps it out of URLs, a read-only token can look but not act, nothing leaves the machine.
import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.ts';
import { dashboardServer, hasText, openDashboard, visible } from './harness.ts';

describe.each(BACKENDS)('the dashboard shell on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('opens at / with every section in its navigation and no console errors', async () => {
    const server = await dashboardServer(backend);
    const { page, expectNoErrors } = await openDashboard(server);
    const nav = page.getByRole('navigation', { name: 'Sections' });
    for (const name of ['Overview', 'Runs', 'Schedules', 'Tasks', 'Queues', 'Workflows', 'Events'])
      await visible(nav.getByRole('link', { name }));
    await visible(page.getByText('● live'));
    expectNoErrors();
  });

  it_('asks for the token, never puts it in a URL, and refuses a wrong one', async () => {
    const server = await dashboardServer(backend, { token: 'full-secret-1', readToken: 'read-secret-1' });
    const wrong = await openDashboard(server, '#/', { token: 'not-it' });
    await hasText(wrong.page.getByRole('alert'), 'refused that token');

    const { page, expectNoErrors } = await openDashboard(server, '#/runs', { token: 'full-secret-1' });
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await visible(page.locator('a[aria-current="page"]', { hasText: 'Runs' }));
    // '● live' may still show from the page before: wait for the Queues page's own request.
    const queuesRead = page.waitForRequest((r) => new URL(r.url()).pathname.startsWith('/v1/queues'));
    await page.getByRole('link', { name: 'Queues' }).click();
    await queuesRead;
    await visible(page.getByText('● live'));
    expect(urls.length).toBeGreaterThan(0);
    for (const u of urls) expect(u).not.toContain('secret');
    expect(page.url()).not.toContain('secret');
    expectNoErrors();
  });

  it_('shows a read-only token as such, and the server refuses it any change', async () => {
    const server = await dashboardServer(backend, { token: 'full-secret-2', readToken: 'read-secret-2' });
    const { page, expectNoErrors } = await openDashboard(server, '#/', { token: 'read-secret-2' });
    await visible(page.getByText('read-only', { exact: true }));
    // The page keeps the token it was given; the server refuses that token any change.
    expect(await page.evaluate(() => sessionStorage.getItem('mainspring.token'))).toBe('read-secret-2');
    const res = await fetch(`${server.url}/v1/queues/x/redrive`, {
      method: 'POST',
      headers: { authorization: 'Bearer read-secret-2' },
    });
    expect(res.status).toBe(403);
    expectNoErrors();
  });

  it_('follows the system theme, light or dark', async () => {
    const server = await dashboardServer(backend);
    const background = async (colorScheme: 'light' | 'dark') => {
      const { page, expectNoErrors } = await openDashboard(server, '#/', { colorScheme });
      await visible(page.getByText('● live'));
      expectNoErrors();
      return page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    };
    expect(await background('light')).toBe('rgb(246, 247, 249)');
    expect(await background('dark')).toBe('rgb(15, 18, 22)');
  });

  it_('is reachable from the keyboard: Tab reaches each section, Enter opens it', async () => {
    const server = await dashboardServer(backend);
    const { page, expectNoErrors } = await openDashboard(server, '#/');
    await visible(page.getByText('● live'));
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'Schedules'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
    }
    expect(focused).toBe('Schedules');
    await page.keyboard.press('Enter');
    await visible(page.locator('a[aria-current="page"]', { hasText: 'Schedules' }));
    expect(new URL(page.url()).hash).toBe('#/schedules');
    expectNoErrors();
  });
});
