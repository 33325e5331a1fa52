// `mainspring start` as users run it (the showcase config, a real child process) serves
// the dashboard at /, and a real browser opens it with the read-only and full tokens.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasText, openDashboard, visible } from '../dashboard/harness.ts';
import { tempDir } from '../helpers/backends.ts';
import { startServer } from '../helpers/cli.ts';

describe('mainspring start serves the dashboard', () => {
  it('at /, with the showcase app, to a browser holding a token', async () => {
    const db = `sqlite:${join(tempDir(), 'app.db')}`;
    const server = await startServer(['--db', db], {
      env: { MAINSPRING_API_TOKEN: 'start-full', MAINSPRING_API_READ_TOKEN: 'start-read' },
    });
    expect(server.lines.some((l) => String(l['msg']).includes('(the dashboard)'))).toBe(true);
    const full = await openDashboard(server, '#/', { token: 'start-full' });
    await visible(full.page.getByText('● live'));
    full.expectNoErrors();

    const read = await openDashboard(server, '#/', { token: 'start-read' });
    await hasText(read.page.locator('header.top'), 'read-only');
    read.expectNoErrors();
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });
});
