// Exactly-once firing across scheduler processes that crash: three `mainspring scheduler`
// processes on one PostgreSQL store, one SIGKILLed and replaced every 15 s, for 65 s of
// real time; every second of the steady window has one run and one handler call.

import { afterEach, describe, expect, it } from 'vitest';
import { type ExactlyOnceResult, killAllChildren, runExactlyOnce } from '../../bench/harness/exactly-once.ts';
import { BACKENDS } from '../helpers/backends.ts';

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

afterEach(() => {
  killAllChildren();
});

describe.skipIf(postgres.skip)('scheduler exactly-once under SIGKILL (postgres)', () => {
  it('fires every tick exactly once while schedulers are killed and replaced', {
    timeout: 150_000,
  }, async () => {
    const lines: string[] = [];
    const result: ExactlyOnceResult = await runExactlyOnce({
      url: postgres.freshUrl(),
      seconds: 65,
      schedulers: 3,
      killEveryMs: 15_000,
      log: (line) => lines.push(line),
    });
    const report = JSON.stringify({ ...result, log: lines }, null, 2);
    expect(result.missing, report).toEqual([]);
    expect(result.duplicated, report).toEqual([]);
    expect(result.unexpectedExits, report).toEqual([]);
    expect(result.kills, report).toBeGreaterThanOrEqual(3);
    expect(result.ticks, report).toBeGreaterThanOrEqual(50);
  });
});
