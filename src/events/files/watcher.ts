// Watches a file trigger's folder with chokidar and announces each complete file
// once: its content hash (the etag) is recorded per key, so a restart, a second
// watcher or a repeated watch event announces nothing new. At start chokidar also
// reports the files already there, which announces what arrived while we were down.
// Links are not followed by chokidar; each candidate is read only if its real path is
// inside the folder's real path (read-inside.ts), so nothing outside is ever announced.

import { createHash } from 'node:crypto';
import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.ts';
import type { EventStore } from '../../store/event-row.ts';
import type { EventBus } from '../bus.ts';
import {
  FILES_SOURCE,
  type FileTriggerDefinition,
  OBJECT_CREATED,
  type ObjectCreatedDetail,
} from './define.ts';
import { readInside } from './read-inside.ts';

export interface FileWatcherDeps {
  readonly bus: EventBus;
  readonly store: EventStore;
  readonly clock: Clock;
  readonly cwd: string;
  readonly logger?: Logger;
}

/** What happened to one file the watcher saw. */
export type FileOutcome =
  | { readonly key: string; readonly announced: true; readonly eventId: string }
  | {
      readonly key: string;
      readonly announced: false;
      /**
       * `outside-folder`: a link whose target is outside the watched folder; `not-a-file`:
       * a link to a folder, or a device or pipe; `changed`: replaced while being opened
       * (its next watch event retries).
       */
      readonly reason:
        | 'already-announced'
        | 'vanished'
        | 'unreadable'
        | 'outside-folder'
        | 'not-a-file'
        | 'changed';
    };

/**
 * One running file trigger.
 *
 * @example
 * ```ts
 * const watcher = new FileWatcher(trigger, { bus: ms.events, store: ms.store.events, clock, cwd: process.cwd() });
 * await watcher.start(); // resolves once the folder's existing files have been seen
 * await watcher.stop();
 * ```
 */
export class FileWatcher {
  readonly trigger: FileTriggerDefinition;
  readonly dir: string;
  /** What chokidar watches: `dir` with links resolved (it does not descend through a link). */
  #watched: string;
  readonly #deps: FileWatcherDeps;
  readonly #listeners = new Set<(outcome: FileOutcome) => void>();
  #watcher: FSWatcher | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(trigger: FileTriggerDefinition, deps: FileWatcherDeps) {
    this.trigger = trigger;
    this.dir = isAbsolute(trigger.dir) ? trigger.dir : resolve(deps.cwd, trigger.dir);
    this.#watched = this.dir;
    this.#deps = deps;
  }

  /** Calls `listener` with the outcome of every file the watcher handles. */
  onOutcome(listener: (outcome: FileOutcome) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts watching; resolves once chokidar has reported the files already present. */
  async start(): Promise<void> {
    if (this.#watcher) return;
    // A folder not created yet is watched by its name until it appears.
    this.#watched = await realpath(this.dir).catch(() => this.dir);
    const watcher = watch(this.#watched, {
      persistent: true,
      ignoreInitial: false,
      // Links are reported as themselves; read-inside.ts decides whether one is followed.
      followSymlinks: false,
      // A file counts as arrived once its size has stopped changing for stabilityMs.
      awaitWriteFinish: {
        stabilityThreshold: this.trigger.stabilityMs,
        pollInterval: Math.max(10, Math.min(100, Math.floor(this.trigger.stabilityMs / 4))),
      },
    });
    this.#watcher = watcher;
    const onFile = (path: string) => {
      const key = relative(this.#watched, path).split(sep).join('/');
      if (!key.startsWith(this.trigger.prefix) || !key.endsWith(this.trigger.suffix)) return;
      this.#queue = this.#queue.then(() => this.#announce(path, key));
    };
    watcher.on('add', onFile);
    watcher.on('change', onFile);
    watcher.on('error', (err) =>
      this.#deps.logger?.error({ err, trigger: this.trigger.name }, 'file watcher error'),
    );
    await new Promise<void>((ready) => watcher.once('ready', () => ready()));
  }

  /** Stops watching and waits for announcements in progress. */
  async stop(): Promise<void> {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    await watcher?.close();
    await this.#queue;
  }

  async #announce(path: string, key: string): Promise<void> {
    const outcome = await this.#tryAnnounce(path, key).catch((err: unknown) => {
      // A store failure: the file is not recorded, so the next start announces it.
      this.#deps.logger?.error({ err, trigger: this.trigger.name, key }, 'could not announce a file');
      return { key, announced: false, reason: 'unreadable' } as const;
    });
    for (const l of this.#listeners) l(outcome);
  }

  async #tryAnnounce(path: string, key: string): Promise<FileOutcome> {
    const name = this.trigger.name;
    const log = this.#deps.logger;
    let read: Awaited<ReturnType<typeof readInside>>;
    try {
      read = await readInside(await realpath(this.#watched), path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      log?.warn(
        { trigger: name, key, code },
        `file ${key} cannot be read (${code}); fix its permissions, then touch it`,
      );
      return { key, announced: false, reason: 'unreadable' };
    }
    if (!read.ok) {
      const isLink = (await lstat(path).catch(() => undefined))?.isSymbolicLink() === true;
      const why = {
        'outside-folder': `file ${key} is a link to something outside ${this.dir}; only files inside the folder are announced`,
        'not-a-file': isLink
          ? `file ${key} is a link to a folder; folders behind links are not watched`
          : `file ${key} is not a regular file`,
        changed: `file ${key} was replaced while being opened; its next change announces it`,
        vanished: isLink
          ? `file ${key} is a link to a missing file; re-create the link once its target exists`
          : `file ${key} vanished before it could be announced`,
      }[read.reason];
      log?.warn({ trigger: name, key, reason: read.reason }, why);
      return { key, announced: false, reason: read.reason };
    }
    const { size, etag } = read;
    const { store, bus, clock } = this.#deps;
    const before = await store.getAnnouncement(name, key);
    if (before?.etag === etag) return { key, announced: false, reason: 'already-announced' };
    // The id follows from what is announced, so announcing again after a crash stores nothing new.
    const eventId = `file.${name}.${createHash('sha256').update(`${key}\n${etag}`).digest('base64url')}`;
    const detail: ObjectCreatedDetail = { bucket: { name }, object: { key, size, etag } };
    await bus.ingest({ id: eventId, source: FILES_SOURCE, detailType: OBJECT_CREATED, detail });
    await store.recordAnnouncement({ trigger: name, key, etag, size, eventId, announcedAtMs: clock.now() });
    return { key, announced: true, eventId };
  }
}
