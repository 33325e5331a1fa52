import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clockFromEnv, FakeClock, RealClock, ScaledClock } from '../../src/core/clock.ts';
import { parseDuration } from '../../src/core/duration.ts';
import { ERROR_CODES } from '../../src/core/errors.ts';

describe('FakeClock', () => {
  it('wakes sleepers in deadline order, each at its own deadline', async () => {
    const clock = new FakeClock('2026-03-08T06:00:00Z');
    const woke: [string, string][] = [];
    const at = (name: string) => () => woke.push([name, new Date(clock.now()).toISOString()]);
    void clock.sleep(3000).then(at('c'));
    void clock.sleep(1000).then(at('a'));
    void clock.sleep(2000).then(at('b'));
    await clock.advance(2500);
    expect(woke).toEqual([
      ['a', '2026-03-08T06:00:01.000Z'],
      ['b', '2026-03-08T06:00:02.000Z'],
    ]);
    expect(clock.now()).toBe(Date.parse('2026-03-08T06:00:02.500Z'));
    expect(clock.pendingSleeps).toBe(1);
    await clock.advance(500);
    expect(woke.at(-1)).toEqual(['c', '2026-03-08T06:00:03.000Z']);
  });

  it('runs sleeps scheduled by woken code within the same advance', async () => {
    const clock = new FakeClock(0);
    const ticks: number[] = [];
    void (async () => {
      for (let i = 0; i < 5; i++) {
        await clock.sleep(100);
        ticks.push(clock.now());
      }
    })();
    await clock.advance(1000);
    expect(ticks).toEqual([100, 200, 300, 400, 500]);
  });

  it('rejects an aborted sleep and forgets it', async () => {
    const clock = new FakeClock(0);
    const ac = new AbortController();
    const p = clock.sleep(1000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(clock.pendingSleeps).toBe(0);
  });

  it('refuses an invalid instant', () => {
    expect(() => new FakeClock('yesterday-ish')).toThrow(
      /"yesterday-ish" is not a valid instant; use an ISO-8601/,
    );
  });
});

describe('ScaledClock and clockFromEnv', () => {
  it('runs time faster by the scale', async () => {
    const clock = new ScaledClock(1000, Date.parse('2026-01-01T00:00:00Z'));
    const start = clock.now();
    await clock.sleep(20_000); // 20 s of scaled time = 20 ms real
    expect(clock.now() - start).toBeGreaterThanOrEqual(20_000);
  });

  // Safety margins (leases, heartbeats, misfire grace, polls, lock TTLs) are real
  // durations: `real` says how much of a clock's time lasts that long.
  it('converts a real duration to clock time: scaled by ScaledClock, as is by the others', () => {
    expect(new ScaledClock(10_080).real(30_000)).toBe(30_000 * 10_080);
    expect(new ScaledClock(0.5).real(1000)).toBe(500);
    expect(new RealClock().real(30_000)).toBe(30_000);
    // Fake time governs margins as it governs everything else: tests move it past a lease.
    expect(new FakeClock(0).real(30_000)).toBe(30_000);
    expect(clockFromEnv({ MAINSPRING_TIME_SCALE: '86400' }).real(60_000)).toBe(60_000 * 86_400);
  });

  it('chooses the clock from MAINSPRING_TIME_SCALE', () => {
    expect(clockFromEnv({})).toBeInstanceOf(RealClock);
    expect(clockFromEnv({ MAINSPRING_TIME_SCALE: '1' })).toBeInstanceOf(RealClock);
    const scaled = clockFromEnv({ MAINSPRING_TIME_SCALE: '1440' });
    expect(scaled).toBeInstanceOf(ScaledClock);
    expect((scaled as ScaledClock).scale).toBe(1440);
    for (const bad of ['0', '-2', 'fast', 'NaN']) {
      expect(() => clockFromEnv({ MAINSPRING_TIME_SCALE: bad })).toThrow(
        /MAINSPRING_TIME_SCALE is .*positive number/,
      );
    }
  });
});

describe('durations', () => {
  it('reads numbers as milliseconds and unit strings', () => {
    expect(parseDuration(250, 'x')).toBe(250);
    expect(parseDuration('250', 'x')).toBe(250);
    expect(parseDuration('30s', 'x')).toBe(30_000);
    expect(parseDuration('1h 30m', 'x')).toBe(5_400_000);
    expect(parseDuration('2 days', 'x')).toBe(172_800_000);
    expect(parseDuration('1.5s', 'x')).toBe(1500);
    expect(parseDuration('100ms', 'x')).toBe(100);
  });

  it('names the field and the fix for bad durations', () => {
    expect(() => parseDuration('soon', 'visibilityTimeout')).toThrow(
      /^visibilityTimeout is "soon": cannot read/,
    );
    expect(() => parseDuration('5 fortnights', 'ttl')).toThrow(
      /unknown unit "fortnights".*'30s', '5m', '24h'/,
    );
    expect(() => parseDuration(-1, 'ttl')).toThrow(/not a non-negative finite number/);
    expect(() => parseDuration('', 'ttl')).toThrow(/empty/);
  });
});

describe('error catalogue', () => {
  it('documents every code in docs/errors.md', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, status] of Object.entries(ERROR_CODES)) {
      expect(doc, code).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`));
    }
  });
});
