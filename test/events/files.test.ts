// File-arrival triggers on both backends, with real files and chokidar: a file
// written slowly is announced once, after it is complete; files added while
// mainspring was stopped are announced at the next start; nothing twice.
// Real short waits (file-system I/O), but no assertion depends on timing.

import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { BusEvent } from '../../src/events/event.ts';
import { defineFileTrigger, type ObjectCreatedDetail } from '../../src/events/files/define.ts';
import type { FileOutcome } from '../../src/events/files/watcher.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS, tempDir } from '../helpers/backends.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

describe.each(BACKENDS)('file triggers on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  async function start(url: string, cwd: string) {
    const arrivals = defineQueue({ name: 'arrivals' });
    const trigger = defineFileTrigger({
      name: 'inbox',
      dir: 'in',
      prefix: 'orders/',
      suffix: '.csv',
      targets: [arrivals],
      stabilityMs: 300,
    });
    const { ms } = await fakeApp(backend, { url, cwd, queues: [arrivals], fileTriggers: [trigger] });
    const outcomes: FileOutcome[] = [];
    const [watcher] = await ms.startFileTriggers();
    watcher!.onOutcome((o) => outcomes.push(o));
    const delivered = async () =>
      (await ms.store.queues.listMessages('arrivals', { limit: 100 })).map(
        (m) => (JSON.parse(m.body) as BusEvent & { detail: ObjectCreatedDetail }).detail.object,
      );
    return { ms, outcomes, delivered };
  }

  it_('announces a slowly written file once, after it is complete', async () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, 'in', 'orders'), { recursive: true });
    const url = backend.freshUrl();
    const { outcomes, delivered } = await start(url, cwd);
    const path = join(cwd, 'in', 'orders', 'a.csv');
    const chunks = ['id,total\n', '1,250\n', '2,99\n', '3,10\n'];
    writeFileSync(path, chunks[0]!);
    for (const c of chunks.slice(1)) {
      await sleep(120);
      appendFileSync(path, c);
    }
    writeFileSync(join(cwd, 'in', 'orders', 'skip.txt'), 'not a csv');
    writeFileSync(join(cwd, 'in', 'other.csv'), 'not under orders/');
    // Renamed into place: complete when it appears.
    writeFileSync(join(cwd, 'in', 'tmp-b'), 'b');
    renameSync(join(cwd, 'in', 'tmp-b'), join(cwd, 'in', 'orders', 'b.csv'));
    await vi.waitFor(() => expect(outcomes.filter((o) => o.announced)).toHaveLength(2), {
      timeout: 10_000,
      interval: 50,
    });
    await sleep(700);
    const all = chunks.join('');
    expect(
      outcomes
        .filter((o) => o.announced)
        .map((o) => o.key)
        .sort(),
    ).toEqual(['orders/a.csv', 'orders/b.csv']);
    const objects = await delivered();
    expect(objects.sort((x, y) => x.key.localeCompare(y.key))).toEqual([
      { key: 'orders/a.csv', size: Buffer.byteLength(all), etag: md5(all) },
      { key: 'orders/b.csv', size: 1, etag: md5('b') },
    ]);
  });

  it_('announces files added while stopped at the next start, and nothing twice', async () => {
    const cwd = tempDir();
    const dir = join(cwd, 'in', 'orders');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'before.csv'), 'x');
    const url = backend.freshUrl();
    const first = await start(url, cwd);
    await vi.waitFor(() => expect(first.outcomes.filter((o) => o.announced)).toHaveLength(1), {
      timeout: 10_000,
      interval: 50,
    });
    await first.ms.close();
    writeFileSync(join(dir, 'while-down.csv'), 'y');
    writeFileSync(join(dir, 'before.csv'), 'x'); // same content: not a new object
    const second = await start(url, cwd);
    await vi.waitFor(
      () =>
        expect(second.outcomes.map((o) => o.key).sort()).toEqual([
          'orders/before.csv',
          'orders/while-down.csv',
        ]),
      {
        timeout: 10_000,
        interval: 50,
      },
    );
    expect(second.outcomes.find((o) => o.key === 'orders/before.csv')).toMatchObject({
      announced: false,
      reason: 'already-announced',
    });
    expect((await second.delivered()).map((o) => o.key).sort()).toEqual([
      'orders/before.csv',
      'orders/while-down.csv',
    ]);
  });
});

describe('defineFileTrigger', () => {
  it('refuses a bad name, folder or stability window', () => {
    const q = defineQueue({ name: 'q' });
    expect(() => defineFileTrigger({ name: 'a b', dir: 'x', targets: [q] })).toThrow(
      /file trigger name "a b" is invalid/,
    );
    expect(() => defineFileTrigger({ name: 'a', dir: '', targets: [q] })).toThrow(
      /file trigger "a": dir is ""/,
    );
    expect(() => defineFileTrigger({ name: 'a', dir: 'x', targets: [q], stabilityMs: 1 })).toThrow(
      /stabilityMs is 1/,
    );
    expect(() => defineFileTrigger({ name: 'a', dir: 'x', targets: [] })).toThrow(/targets is empty/);
  });
});
