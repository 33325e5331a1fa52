// examples/slow-scheduler as its users drive seed 003: the editor's curl calls (the seed's
// exact body, "id": "some task id") against a server that fires nothing by itself
// (`start --no-scheduler`), then the worker with --fakenow (`run-due --now`), which runs
// exactly the tasks due by then, once, each by the function its action names. The editor and
// the worker are separate processes, so this runs on SQLite and PostgreSQL.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BACKENDS, tempDir } from '../helpers/backends.ts';
import { runCli, startServer } from '../helpers/cli.ts';

const CONFIG = fileURLToPath(new URL('../../examples/slow-scheduler/mainspring.config.ts', import.meta.url));

// The seed's README, verbatim but for the host and the path under /v1.
const SEED_TASK = {
  id: 'some task id',
  due: '2020-12-31T00:00:00Z',
  action: 'APPLY_SALE',
  payload: { itemID: 'some item', newPrice: 29.99, salePercent: 50 },
};

interface RunDueJson {
  fired: { kind: string; name: string; run: { status: string } | null }[];
}

describe.each(BACKENDS)('examples/slow-scheduler on $name', (backend) => {
  it.skipIf(backend.skip)(
    'the editor stores tasks by id; the worker at --fakenow runs the due ones once',
    async () => {
      const db = backend.freshUrl();
      const dir = tempDir();
      const env = { CATALOGUE_FILE: join(dir, 'catalogue.json'), MAINSPRING_TIME_SCALE: undefined };
      const editor = await startServer(['--no-scheduler', '--config', CONFIG, '--db', db], { env });
      const post = (task: unknown) =>
        fetch(`${editor.url}/v1/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(task),
        });

      expect((await post(SEED_TASK)).status).toBeLessThan(300);
      // Overwriting by id: the publication moves a month later before anything runs.
      const publish = {
        id: 'publish some item',
        due: '2021-01-01T00:00:00Z',
        action: 'PUBLISH_ITEM',
        payload: { itemID: 'some item' },
      };
      expect((await post(publish)).status).toBeLessThan(300);
      expect((await post({ ...publish, due: '2021-02-01T00:00:00Z' })).status).toBeLessThan(300);
      const withdraw = {
        id: 'withdraw some item',
        due: '2031-01-01T00:00:00Z',
        action: 'WITHDRAW_ITEM',
        payload: { itemID: 'some item' },
      };
      expect((await post(withdraw)).status).toBeLessThan(300);

      const listed = (await (await fetch(`${editor.url}/v1/tasks`)).json()) as {
        tasks: { id: string; status: string }[];
      };
      expect(listed.tasks.map((t) => [t.id, t.status]).sort()).toEqual([
        ['publish some item', 'pending'],
        ['some task id', 'pending'],
        ['withdraw some item', 'pending'],
      ]);
      const one = await fetch(`${editor.url}/v1/tasks/${encodeURIComponent('some task id')}`);
      expect(await one.json()).toMatchObject({
        id: 'some task id',
        due: '2020-12-31T00:00:00.000Z',
        status: 'pending',
      });
      // The editor alone fires nothing, even what is long overdue.
      expect(existsSync(env.CATALOGUE_FILE)).toBe(false);

      const worker = (now: string) =>
        runCli(['run-due', '--now', now, '--config', CONFIG, '--db', db, '--json'], {
          env,
          timeoutMs: 60_000,
        });
      const fired = async (now: string) => {
        const r = await worker(now);
        expect(r.code, r.stderr).toBe(0);
        return (JSON.parse(r.stdout) as RunDueJson).fired.map((f) => [f.name, f.run?.status]);
      };

      expect(await fired('2020-12-31T00:00:00Z')).toEqual([['some task id', 'succeeded']]);
      const catalogue = () => JSON.parse(readFileSync(env.CATALOGUE_FILE, 'utf8')) as Record<string, unknown>;
      expect(catalogue()).toEqual({ 'some item': { price: 29.99, salePercent: 50 } });
      // The same instant again: nothing left to do.
      expect(await fired('2020-12-31T00:00:00Z')).toEqual([]);
      // The moved publication is not due on its old date, only on its new one.
      expect(await fired('2021-01-15T00:00:00Z')).toEqual([]);
      expect(await fired('2021-02-01T00:00:00Z')).toEqual([['publish some item', 'succeeded']]);
      expect(catalogue()).toEqual({ 'some item': { price: 29.99, salePercent: 50, published: true } });

      const after = (await (await fetch(`${editor.url}/v1/tasks`)).json()) as {
        tasks: { id: string; status: string }[];
      };
      expect(after.tasks.map((t) => [t.id, t.status]).sort()).toEqual([
        ['publish some item', 'fired'],
        ['some task id', 'fired'],
        ['withdraw some item', 'pending'],
      ]);
      editor.child.kill('SIGTERM');
      expect((await editor.exited).code).toBe(0);
    },
  );
});
