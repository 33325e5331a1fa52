// `queues`, `functions list` and `locks` as real child processes, against a real server that
// requires an API token (--url, --token) and against its store directly (no --url): both
// modes print the same. Fixture: test/e2e/fixtures/queues.

import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { BACKENDS, tempDir } from '../helpers/backends.ts';
import { type CliResult, runCli, startServer } from '../helpers/cli.ts';

const CONFIG = fileURLToPath(new URL('./fixtures/queues/mainspring.config.ts', import.meta.url));
const SQLITE = BACKENDS[0]!;
const TOKEN = 'tok-cli-url';

interface Counts {
  visible: number;
  inFlight: number;
  delayed: number;
  dead: number;
  oldestAgeMs: number | null;
}

/** Fails the test unless the command exited 0 with nothing on stderr. */
function ok(r: CliResult): string {
  expect(r.stderr, r.stdout).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

/** A usage or API error: exit `code`, one line on stderr matching `message`, nothing on stdout. */
function failed(r: CliResult, code: number, message: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stdout).toBe('');
}

/** A queue table with its OLDEST column (an age, so it moves between two calls) blanked. */
const withoutAges = (stdout: string): string[][] =>
  stdout
    .trimEnd()
    .split('\n')
    .map((line, i) => line.split(/\s{2,}/).map((cell, c) => (c === 5 && i > 0 ? '…' : cell)));

// About forty CLI processes, each a Node start-up of half a second or more.
describe('queues, functions and locks through the CLI, with --url and without', { timeout: 120_000 }, () => {
  it('send, list, stats, dlq, redrive, functions list, locks list and release', async () => {
    const db = SQLITE.freshUrl();
    const env = { MAINSPRING_API_TOKEN: TOKEN };
    const server = await startServer(['--config', CONFIG, '--db', db], { env });
    // Over HTTP from a folder with no config: everything comes from the server.
    const away = tempDir();
    const remote = (...args: string[]) =>
      runCli([...args, '--url', server.url, '--token', TOKEN], { cwd: away, timeoutMs: 25_000 });
    const local = (...args: string[]) =>
      runCli([...args, '--config', CONFIG, '--db', db], { timeoutMs: 25_000 });
    const counts = async (queue: string) =>
      (JSON.parse(ok(await remote('queues', 'stats', queue, '--json'))) as { counts: Counts }).counts;

    // send: the id alone, or JSON; a repeated dedup key gives the first message's id.
    const rejected = ok(await remote('queues', 'send', 'orders', '--body', '{"ok": false}'));
    expect(rejected).toMatch(/^[1-9][0-9]*\n$/);
    const accepted = JSON.parse(
      ok(await remote('queues', 'send', 'orders', '--body', '{"ok": true}', '--json')),
    );
    expect(accepted).toEqual({ id: expect.stringMatching(/^[1-9][0-9]*$/) });
    const parked = ok(
      await remote(
        'queues',
        'send',
        'parked',
        '--body',
        '"later"',
        '--delay',
        '1h',
        '--priority',
        '5',
        '--dedup-key',
        'k1',
      ),
    );
    expect(ok(await local('queues', 'send', 'parked', '--body', '"again"', '--dedup-key', 'k1'))).toBe(
      parked,
    );
    // A debounce key: the second send replaces the pending message and prints its id.
    const debounced = ok(
      await remote('queues', 'send', 'parked', '--body', '1', '--debounce-key', 'd1', '--period', '1h'),
    );
    expect(
      ok(await local('queues', 'send', 'parked', '--body', '2', '--debounce-key', 'd1', '--period', '1h')),
    ).toBe(debounced);
    const id = rejected.trim();

    await vi.waitFor(
      async () => expect(await counts('orders')).toMatchObject({ visible: 0, inFlight: 0, dead: 1 }),
      {
        timeout: 15_000,
        interval: 50,
      },
    );
    expect(await counts('parked')).toMatchObject({ visible: 0, delayed: 2 });

    // list and stats: the same table both ways (ages aside).
    const list = ok(await remote('queues', 'list'));
    expect(list).toMatch(/^QUEUE\s+VISIBLE\s+IN FLIGHT\s+DELAYED\s+DEAD\s+OLDEST\s+FIFO\s+DLQ\s+PAUSED\n/);
    expect(list).toMatch(/^orders\s+0\s+0\s+0\s+1\s+\S+\s+no\s+orders-dlq\s+no$/m);
    expect(list).toMatch(/^orders-dlq\s+1\s+0\s+0\s+0\s+\S+\s+no\s+-\s+no$/m);
    expect(list).toMatch(/^parked\s+0\s+0\s+2\s+0\s+\S+\s+no\s+-\s+no$/m);
    expect(withoutAges(ok(await local('queues', 'list')))).toEqual(withoutAges(list));
    const stats = ok(await remote('queues', 'stats', 'orders'));
    expect(stats.trimEnd().split('\n')).toHaveLength(2);
    expect(withoutAges(ok(await local('queues', 'stats', 'orders')))).toEqual(withoutAges(stats));

    // dlq: the dead letter with its error, the same both ways (nothing in it moves).
    const dlq = ok(await remote('queues', 'dlq', 'orders'));
    expect(dlq).toMatch(new RegExp(`^${id}  died \\d{4}-\\d\\d-\\d\\dT\\S+Z  \\{"ok":false\\}\\n`));
    expect(dlq).toContain('    1 error(s); last: rejected order\n');
    expect(ok(await local('queues', 'dlq', 'orders'))).toBe(dlq);
    const dlqJson = JSON.parse(ok(await remote('queues', 'dlq', 'orders', '--json'))) as unknown[];
    expect(dlqJson).toEqual([expect.objectContaining({ id, sourceQueue: 'orders', body: { ok: false } })]);

    // redrive: back into the queue, where it fails again; then once more without --url.
    expect(ok(await remote('queues', 'redrive', 'orders', '--ids', id))).toBe(
      'redrove 1 message(s) into orders\n',
    );
    await vi.waitFor(
      async () => expect(await counts('orders')).toMatchObject({ visible: 0, inFlight: 0, dead: 1 }),
      {
        timeout: 15_000,
        interval: 50,
      },
    );
    expect(ok(await local('queues', 'redrive', 'orders'))).toBe('redrove 1 message(s) into orders\n');

    // pause and resume, both ways: list and stats show it; the server's consumer waits meanwhile.
    expect(ok(await remote('queues', 'pause', 'orders'))).toMatch(
      /^orders is paused \(since \d{4}-\S+Z\)\n$/,
    );
    expect(ok(await local('queues', 'pause', 'orders'))).toMatch(/^orders is paused/);
    expect(ok(await remote('queues', 'send', 'orders', '--body', '{"ok": true}'))).toMatch(/^\d+\n$/);
    expect(ok(await local('queues', 'list'))).toMatch(
      /^orders\s+1\s+0\s+0\s+\d+\s+\S+\s+no\s+orders-dlq\s+yes$/m,
    );
    expect(JSON.parse(ok(await remote('queues', 'stats', 'orders', '--json')))).toMatchObject({
      paused: true,
      pausedAt: expect.stringMatching(/Z$/),
      counts: { visible: 1, inFlight: 0 },
    });
    expect(JSON.parse(ok(await local('queues', 'resume', 'orders', '--json')))).toEqual({
      name: 'orders',
      paused: false,
      pausedAt: null,
    });
    expect(ok(await remote('queues', 'resume', 'orders'))).toBe('orders is receiving\n');
    await vi.waitFor(async () => expect(await counts('orders')).toMatchObject({ visible: 0, inFlight: 0 }), {
      timeout: 15_000,
      interval: 50,
    });

    // functions list
    const functions = ok(await remote('functions', 'list'));
    const rows = functions.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^NAME\s+KIND\s+TRIGGERS\s+SCHEDULES\s+TIMEOUT\s+RETRIES\s+PAUSED$/);
    expect(rows).toContainEqual(expect.stringMatching(/^take\s+function\s+orders\s+-\s+15m\s+2\s+no$/));
    expect(rows).toContainEqual(
      expect.stringMatching(/^yearly\s+function\s+-\s+cron\(0 3 1 1 \? \*\)\s+2m\s+0\s+no$/),
    );
    expect(ok(await local('functions', 'list'))).toBe(functions);
    expect(JSON.parse(ok(await remote('functions', 'list', '--json')))).toContainEqual(
      expect.objectContaining({ name: 'take', kind: 'function', triggers: ['orders'], schedules: [] }),
    );

    // functions pause|resume: the server's worker stops taking the function's messages.
    const paused = JSON.parse(ok(await remote('functions', 'pause', 'take', '--json')));
    expect(paused).toMatchObject({ name: 'take', paused: true, pausedAt: expect.stringMatching(/Z$/) });
    expect(ok(await local('functions', 'pause', 'take'))).toBe(`take is paused (since ${paused.pausedAt})\n`);
    expect(ok(await remote('functions', 'list'))).toMatch(/^take\s+function\s+orders\s+-\s+15m\s+2\s+yes$/m);
    ok(await remote('queues', 'send', 'orders', '--body', '{"ok": true}'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await counts('orders')).toMatchObject({ visible: 1, inFlight: 0 });
    expect(ok(await remote('functions', 'resume', 'take'))).toBe('take is running\n');
    await vi.waitFor(async () => expect(await counts('orders')).toMatchObject({ visible: 0, inFlight: 0 }), {
      timeout: 15_000,
      interval: 50,
    });
    failed(
      await remote('functions', 'pause', 'nope'),
      2,
      /no function named "nope".*\[E_FUNCTION_NOT_FOUND\]/,
    );

    // locks: two leases taken over HTTP, as a script in another language would.
    for (const [name, owner] of [
      ['nightly', 'cron-a'],
      ['export', 'cron-b'],
    ]) {
      const res = await fetch(`${server.url}/v1/locks/${name}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ttl: '1h', owner }),
      });
      expect(res.status).toBe(200);
    }
    const locks = ok(await remote('locks', 'list'));
    expect(locks).toMatch(/^NAME\s+OWNER\s+TOKEN\s+ACQUIRED\s+EXPIRES\n/);
    expect(locks).toMatch(
      /^export\s+cron-b\s+1\s+\d{4}-\S+Z\s+\d{4}-\S+Z\nnightly\s+cron-a\s+1\s+\S+\s+\S+\n$/m,
    );
    expect(ok(await local('locks', 'list'))).toBe(locks);

    failed(
      await remote('locks', 'release', 'nightly', '--fencing-token', '2'),
      2,
      /not held with that token.*\[E_CONFLICT\]/,
    );
    expect(ok(await remote('locks', 'release', 'nightly', '--fencing-token', '1'))).toBe(
      'released lock nightly (token 1)\n',
    );
    // --force: an operator ends a lease without its token.
    expect(ok(await local('locks', 'release', 'export', '--force'))).toBe(
      'released lock export held by cron-b (token 1)\n',
    );
    expect(ok(await remote('locks', 'release', 'export', '--force'))).toBe(
      'lock export is not held; nothing to release\n',
    );
    expect(JSON.parse(ok(await remote('locks', 'release', 'export', '--force', '--json')))).toEqual({
      released: null,
    });
    expect(ok(await remote('locks', 'list'))).toBe('no locks held\n');
    expect(ok(await local('locks', 'list'))).toBe('no locks held\n');

    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    // With the server gone, the store still answers directly.
    expect(ok(await local('locks', 'list'))).toBe('no locks held\n');
  });

  it('a wrong token exits 1 with one line; bad flags exit 2 naming the flag', async () => {
    const db = SQLITE.freshUrl();
    const server = await startServer(['--config', CONFIG, '--db', db], {
      env: { MAINSPRING_API_TOKEN: TOKEN },
    });
    const remote = (token: string, ...args: string[]) =>
      runCli([...args, '--url', server.url, '--token', token], { cwd: tempDir(), timeoutMs: 25_000 });

    for (const args of [
      ['queues', 'list'],
      ['queues', 'send', 'orders', '--body', '1'],
      ['functions', 'list'],
      ['locks', 'release', 'nightly', '--force'],
    ]) {
      failed(await remote('wrong', ...args), 1, /\[E_UNAUTHORIZED\]$/m);
    }

    const cases: [string[], RegExp][] = [
      [['queues', 'send', 'orders', '--body', '{bad'], /--body is not valid JSON/],
      [['queues', 'send', 'orders', '--body', '1', '--delay', 'soon'], /--delay is "soon"/],
      [['queues', 'send', 'orders', '--body', '1', '--priority', 'high'], /--priority is "high"/],
      [['queues', 'send', 'nope', '--body', '1'], /queue "nope" does not exist/],
      [
        ['queues', 'send', 'orders', '--body', '1', '--period', '5s'],
        /--period needs --debounce-key or --throttle-key/,
      ],
      [
        ['queues', 'send', 'orders', '--body', '1', '--debounce-key', 'k', '--period', '13h'],
        /debounce\.period is "13h"; use a duration from 1 ms to 12 hours/,
      ],
      [['queues', 'pause', 'nope'], /queue "nope" does not exist/],
      [['queues', 'redrive', 'orders', '--ids', '1,x'], /--ids is "1,x"/],
      [['queues', 'dlq', 'orders', '--after', 'x'], /--after is "x"/],
      [['queues', 'purge', 'orders'], /add --yes to confirm/],
      [['locks', 'release', 'nightly'], /give one of --fencing-token N .* or --force/],
      [['locks', 'release', 'nightly', '--fencing-token', '0'], /--fencing-token is "0"/],
    ];
    for (const [args, message] of cases) failed(await remote(TOKEN, ...args), 2, message);

    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });
});
