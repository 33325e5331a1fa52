// File triggers and symbolic links, with real files and chokidar: nothing whose real
// path is outside the watched folder is announced (a link to /etc/hostname, a linked
// folder elsewhere), a link to a file inside the folder is announced under its own key,
// and a dangling link is skipped. The watched folder may itself be reached by a link.
// Real short waits (file-system I/O), but no assertion depends on timing.

import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { BusEvent } from '../../src/events/event.ts';
import { defineFileTrigger, type ObjectCreatedDetail } from '../../src/events/files/define.ts';
import { readInside } from '../../src/events/files/read-inside.ts';
import { type FileOutcome, FileWatcher } from '../../src/events/files/watcher.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS, tempDir } from '../helpers/backends.ts';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const SECRET = 'outside the folder\n';

/** A scratch area: `in/` is watched, `outside/` holds a file and a folder next to it. */
function scratch() {
  const root = tempDir();
  const inbox = join(root, 'in');
  const outside = join(root, 'outside');
  mkdirSync(join(inbox, 'sub'), { recursive: true });
  mkdirSync(join(outside, 'dir'), { recursive: true });
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  writeFileSync(join(outside, 'dir', 'f.txt'), SECRET);
  return { root, inbox, outside };
}

async function watchFolder(root: string, dir: string) {
  const arrivals = defineQueue({ name: 'arrivals' });
  const trigger = defineFileTrigger({ name: 'inbox', dir, targets: [arrivals], stabilityMs: 50 });
  const { ms, clock } = await fakeApp(BACKENDS[0]!, {
    url: `sqlite:${root}/files.db`,
    cwd: root,
    queues: [arrivals],
    fileTriggers: [trigger],
  });
  const watcher = new FileWatcher(trigger, { bus: ms.events, store: ms.store.events, clock, cwd: root });
  const outcomes: FileOutcome[] = [];
  watcher.onOutcome((o) => outcomes.push(o));
  await watcher.start();
  const delivered = async () =>
    (await ms.store.queues.listMessages('arrivals', { limit: 100 }))
      .map((m) => (JSON.parse(m.body) as BusEvent & { detail: ObjectCreatedDetail }).detail.object)
      .sort((a, b) => a.key.localeCompare(b.key));
  const settle = (keys: string[]) =>
    vi.waitFor(() => expect(outcomes.map((o) => o.key).sort()).toEqual(expect.arrayContaining(keys)), {
      timeout: 10_000,
      interval: 25,
    });
  const outcome = (key: string) => outcomes.find((o) => o.key === key);
  return { watcher, outcomes, delivered, settle, outcome };
}

describe('file triggers and symbolic links', () => {
  it('at start: announces files and links inside the folder, never what links point to outside', async () => {
    const { root, inbox, outside } = scratch();
    writeFileSync(join(inbox, 'a.txt'), 'inside');
    writeFileSync(join(inbox, 'sub', 's.txt'), 'deeper');
    symlinkSync(join(outside, 'secret.txt'), join(inbox, 'link-out'));
    symlinkSync('/etc/hostname', join(inbox, 'hostname'));
    symlinkSync(join(outside, 'dir'), join(inbox, 'dir-out'));
    symlinkSync('a.txt', join(inbox, 'link-in'));
    symlinkSync('sub', join(inbox, 'dir-in'));
    symlinkSync('missing.txt', join(inbox, 'dangling'));
    const w = await watchFolder(root, 'in');
    await w.settle([
      'a.txt',
      'sub/s.txt',
      'link-in',
      'link-out',
      'hostname',
      'dir-out',
      'dir-in',
      'dangling',
    ]);
    await w.watcher.stop();
    expect(await w.delivered()).toEqual([
      { key: 'a.txt', size: 6, etag: md5('inside') },
      { key: 'link-in', size: 6, etag: md5('inside') },
      { key: 'sub/s.txt', size: 6, etag: md5('deeper') },
    ]);
    for (const key of ['link-out', 'hostname', 'dir-out'])
      expect(w.outcome(key)).toEqual({ key, announced: false, reason: 'outside-folder' });
    // A linked folder inside is not descended into: its files are announced at their real keys.
    expect(w.outcome('dir-in')).toEqual({ key: 'dir-in', announced: false, reason: 'not-a-file' });
    expect(w.outcome('dangling')).toEqual({ key: 'dangling', announced: false, reason: 'vanished' });
    expect(w.outcomes.some((o) => o.key.startsWith('dir-out/') || o.key.startsWith('dir-in/'))).toBe(false);
  });

  it('while watching: links that appear pointing outside are not announced', async () => {
    const { root, inbox, outside } = scratch();
    const w = await watchFolder(root, 'in');
    symlinkSync(join(outside, 'secret.txt'), join(inbox, 'late-out'));
    symlinkSync(join(outside, 'dir'), join(inbox, 'late-dir'));
    writeFileSync(join(inbox, 'b.txt'), 'bee');
    symlinkSync(join(inbox, 'b.txt'), join(inbox, 'late-in'));
    await w.settle(['late-out', 'late-dir', 'b.txt', 'late-in']);
    await w.watcher.stop();
    expect(await w.delivered()).toEqual([
      { key: 'b.txt', size: 3, etag: md5('bee') },
      { key: 'late-in', size: 3, etag: md5('bee') },
    ]);
    expect(w.outcome('late-out')).toMatchObject({ announced: false, reason: 'outside-folder' });
    expect(w.outcome('late-dir')).toMatchObject({ announced: false, reason: 'outside-folder' });
  });

  it('a watched folder reached through a link is watched at its real path', async () => {
    const { root, inbox } = scratch();
    symlinkSync(inbox, join(root, 'in-link'));
    writeFileSync(join(inbox, 'c.txt'), 'sea');
    // An absolute link into the folder, spelled through the folder's link: still inside.
    symlinkSync(join(root, 'in-link', 'c.txt'), join(inbox, 'c-link'));
    const w = await watchFolder(root, 'in-link');
    await w.settle(['c.txt', 'c-link']);
    await w.watcher.stop();
    expect((await w.delivered()).map((o) => o.key)).toEqual(['c-link', 'c.txt']);
  });
});

describe('readInside', () => {
  it('refuses a file whose link is swapped while it is being checked and opened', async () => {
    const { inbox, outside } = scratch();
    writeFileSync(join(inbox, 'a.txt'), 'inside');
    writeFileSync(join(inbox, 'b.txt'), 'bee');
    const link = join(inbox, 'swap');
    const point = (target: string) => async () => {
      unlinkSync(link);
      symlinkSync(target, link);
    };
    symlinkSync(join(inbox, 'b.txt'), link);
    // Checked while it points inside, re-pointed outside before it is opened.
    expect(await readInside(inbox, link, { beforeOpen: point(join(outside, 'secret.txt')) })).toEqual({
      ok: false,
      reason: 'outside-folder',
    });
    // ... and back inside once opened: the open file is not the one at the real path.
    await point(join(inbox, 'b.txt'))();
    expect(
      await readInside(inbox, link, {
        beforeOpen: point(join(outside, 'secret.txt')),
        afterOpen: point(join(inbox, 'a.txt')),
      }),
    ).toEqual({ ok: false, reason: 'changed' });
    expect(await readInside(inbox, link)).toEqual({ ok: true, size: 6, etag: md5('inside') });
    expect(await readInside(inbox, join(inbox, 'missing'))).toEqual({ ok: false, reason: 'vanished' });
  });
});
