// Reads a file for a file trigger only if it really lies inside the watched folder
// once every symbolic link on its path is resolved. The content is read through the
// descriptor that was checked, so a link re-pointed between the check and the read
// cannot smuggle in a file from elsewhere (/etc/hostname, another user's folder).

import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';

export type ReadInside =
  | { readonly ok: true; readonly size: number; readonly etag: string }
  | {
      readonly ok: false;
      /**
       * `outside-folder`: its real path is outside the folder; `not-a-file`: a folder (or a
       * link to one), a device, a pipe; `changed`: it was replaced while being opened;
       * `vanished`: it (or a link's target) does not exist.
       */
      readonly reason: 'outside-folder' | 'not-a-file' | 'changed' | 'vanished';
    };

/** Test hooks at the two moments a swapped link would race the checks. */
export interface ReadInsideHooks {
  readonly beforeOpen?: () => Promise<void>;
  readonly afterOpen?: () => Promise<void>;
}

function within(root: string, real: string): boolean {
  const rel = relative(root, real);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}

/**
 * The size and MD5 of `path` when its real path is inside `root` (already a real path) and
 * it is a regular file; else why not. Throws only for unexpected errors (e.g. EACCES).
 *
 * @example
 * ```ts
 * const r = await readInside(await realpath(dir), join(dir, 'a.csv'));
 * if (r.ok) console.log(r.size, r.etag);
 * ```
 */
export async function readInside(
  root: string,
  path: string,
  hooks: ReadInsideHooks = {},
): Promise<ReadInside> {
  try {
    // Checked before opening, so nothing outside is even opened (opening a device can act).
    if (!within(root, await realpath(path))) return { ok: false, reason: 'outside-folder' };
    if (!(await stat(path)).isFile()) return { ok: false, reason: 'not-a-file' };
  } catch (err) {
    if (isMissing(err)) return { ok: false, reason: 'vanished' };
    throw err;
  }
  await hooks.beforeOpen?.();
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // O_NONBLOCK: a pipe swapped in after the check must not hang the open.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (isMissing(err)) return { ok: false, reason: 'vanished' };
    throw err;
  }
  try {
    await hooks.afterOpen?.();
    const opened = await handle.stat();
    if (!opened.isFile()) return { ok: false, reason: 'not-a-file' };
    // The checks again, now tied to the open file: its real path is inside, and the file
    // there is the one we hold (same device and inode), not one swapped in since.
    let real: string;
    try {
      real = await realpath(path);
    } catch (err) {
      if (isMissing(err)) return { ok: false, reason: 'changed' };
      throw err;
    }
    if (!within(root, real)) return { ok: false, reason: 'outside-folder' };
    const there = await lstat(real).catch(() => undefined);
    if (there === undefined || there.dev !== opened.dev || there.ino !== opened.ino) {
      return { ok: false, reason: 'changed' };
    }
    const hash = createHash('md5');
    const buf = Buffer.allocUnsafe(64 * 1024);
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
    return { ok: true, size, etag: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}
