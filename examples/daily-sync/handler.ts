// The seed's handler.ts: fetch, store the day's sync, archive syncs older than 30 days.
// The DailySync model is a JSON file here (SYNC_FILE, default .mainspring/daily-sync.json),
// so the example needs no database of its own. `console.log` lines are kept with the run,
// as Lambda sent them to CloudWatch.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FunctionContext } from 'mainspringjs';

export interface DailySyncRecord {
  readonly id: string;
  readonly date: string;
  readonly source: string;
  readonly data: string;
  readonly status: 'success';
  readonly recordCount: number;
  readonly executedAt: string;
  readonly isActive: boolean;
}

const KEEP_DAYS = 30;
const DAY_MS = 86_400_000;

const file = () => process.env['SYNC_FILE'] ?? '.mainspring/daily-sync.json';

export function readSyncs(path = file()): DailySyncRecord[] {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as DailySyncRecord[]) : [];
}

function writeSyncs(records: readonly DailySyncRecord[], path = file()): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(records, null, 2)}\n`);
}

/** EXTERNAL_API_URL's records, or, with none set (the showcase), a few made up for the day. */
async function fetchExternalData(day: string): Promise<unknown[]> {
  const url = process.env['EXTERNAL_API_URL'];
  if (!url) return [{ id: `sample-${day}`, value: day.length }];
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${process.env['API_KEY'] ?? ''}` },
    signal: AbortSignal.timeout(30_000),
  });
  // Thrown, not caught as the seed's handler did: the run fails, is retried, then alerts.
  if (!response.ok) throw new Error(`API failed: ${response.status}`);
  return (await response.json()) as unknown[];
}

export async function dailySync(_input: unknown, ctx: FunctionContext) {
  // The tick's time, not the machine's: the same under a fake or scaled clock.
  const now = ctx.run.scheduledFor ?? new Date();
  const day = now.toISOString().slice(0, 10);
  console.log('Daily sync started:', now.toISOString());

  const externalData = await fetchExternalData(day);
  const syncs = readSyncs();
  const record: DailySyncRecord = {
    id: `sync-${day}`,
    date: day,
    source: 'external-api',
    data: JSON.stringify(externalData),
    status: 'success',
    recordCount: externalData.length,
    executedAt: now.toISOString(),
    isActive: true,
  };
  // Marked inactive rather than deleted, for the audit trail, as the seed does.
  const cutoff = now.getTime() - KEEP_DAYS * DAY_MS;
  let archived = 0;
  const kept = syncs
    .filter((s) => s.id !== record.id)
    .map((s) => {
      if (!s.isActive || Date.parse(s.executedAt) >= cutoff) return s;
      archived++;
      return { ...s, isActive: false };
    });
  writeSyncs([...kept, record]);

  ctx.log.info(
    { recordsProcessed: externalData.length, archived, syncId: record.id },
    'daily sync completed',
  );
  return { recordsProcessed: externalData.length, archived };
}
