// fileProcessor (seed: src/process-file.ts, on s3:ObjectCreated:* under incoming/ of the
// uploads bucket): the bucket is a folder, uploads/ in the working directory (or
// UPLOADS_DIR), and the file trigger announces each complete file under
// uploads/incoming/ once, as an S3-style "Object Created" event.

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FunctionContext, ObjectCreatedDetail } from 'mainspringjs';

/** The "bucket": a folder, made absolute here against the working directory. */
export const UPLOADS_DIR = resolve(process.env['UPLOADS_DIR'] ?? 'uploads');

export interface FileResult {
  readonly key: string;
  readonly bytes: number;
  /** Non-empty lines: the rows of an uploaded CSV, say. */
  readonly lines: number;
}

export async function processFile(
  event: { readonly detail: ObjectCreatedDetail },
  ctx: FunctionContext,
): Promise<FileResult> {
  const { key } = event.detail.object;
  const text = await readFile(join(UPLOADS_DIR, key), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() !== '').length;
  ctx.log.info({ key, lines }, 'file processed');
  return { key, bytes: Buffer.byteLength(text), lines };
}
