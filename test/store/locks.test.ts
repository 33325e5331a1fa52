// Lease contract, run against every backend.

import { describe, expect, it, vi } from 'vitest';
import { FakeClock, RealClock } from '../../src/core/clock.ts';
import { Locks } from '../../src/locks/locks.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { advanceInSteps } from '../helpers/clock.ts';

describe.each(BACKENDS)('locks on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  async function setup(start = '2026-01-01T00:00:00Z') {
    const clock = new FakeClock(start);
    const store = await backend.open({ clock });
    return { clock, store, a: new Locks(store.locks, clock, 'a'), b: new Locks(store.locks, clock, 'b') };
  }

  it_('grants a free lease with token 1 and refuses a second holder', async () => {
    const { a, b } = await setup();
    const lease = await a.acquire('job', { ttl: '10s' });
    expect(lease).toMatchObject({ name: 'job', owner: 'a', token: 1 });
    expect(lease!.expiresAt.toISOString()).toBe('2026-01-01T00:00:10.000Z');
    expect(await b.acquire('job', { ttl: '10s' })).toBeNull();
    expect(await b.holder('job')).toMatchObject({ owner: 'a', token: 1 });
  });

  it_('lets an expired lease be taken over and refuses the old holder afterwards', async () => {
    const { clock, a, b } = await setup();
    const old = (await a.acquire('job', { ttl: 1000 }))!;
    await clock.advance(999);
    expect(await b.acquire('job', { ttl: 1000 })).toBeNull();
    await clock.advance(1);
    const taken = (await b.acquire('job', { ttl: 1000 }))!;
    expect(taken.token).toBe(old.token + 1);
    expect(await a.renew(old, { ttl: 1000 })).toBeNull();
    expect(await a.release(old)).toBe(false);
    expect(await b.holder('job')).toMatchObject({ owner: 'b', token: taken.token });
  });

  it_('renews a live lease and refuses to renew an expired one', async () => {
    const { clock, a, b } = await setup();
    const lease = (await a.acquire('job', { ttl: 1000 }))!;
    await clock.advance(800);
    const renewed = (await a.renew(lease, { ttl: 1000 }))!;
    expect(renewed.token).toBe(lease.token);
    expect(renewed.expiresAt.getTime()).toBe(clock.now() + 1000);
    await clock.advance(900);
    expect(await b.acquire('job', { ttl: 1000 })).toBeNull();
    await clock.advance(100);
    expect(await a.renew(renewed, { ttl: 1000 })).toBeNull();
  });

  it_('frees a released lease at once, and tokens keep increasing per name', async () => {
    const { a, b } = await setup();
    const tokens: number[] = [];
    for (let i = 0; i < 5; i++) {
      const who = i % 2 === 0 ? a : b;
      const lease = (await who.acquire('job', { ttl: '1h' }))!;
      tokens.push(lease.token);
      expect(await who.release(lease)).toBe(true);
      expect(await who.release(lease)).toBe(false);
    }
    expect(tokens).toEqual([1, 2, 3, 4, 5]);
    expect((await a.acquire('other', { ttl: '1h' }))!.token).toBe(1);
    expect((await a.list()).map((l) => l.name)).toEqual(['other']);
  });

  it_('rejects bad names and TTLs with the field named, storing nothing', async () => {
    const { a } = await setup();
    await expect(a.acquire('', { ttl: 1000 })).rejects.toMatchObject({
      code: 'E_LOCK_INVALID',
      message: /lock name/,
    });
    await expect(a.acquire('x'.repeat(201), { ttl: 1000 })).rejects.toMatchObject({ code: 'E_LOCK_INVALID' });
    await expect(a.acquire('job', { ttl: 0 })).rejects.toMatchObject({
      code: 'E_LOCK_INVALID',
      message: /ttl/,
    });
    await expect(a.acquire('job', { ttl: '5 fortnights' })).rejects.toMatchObject({
      code: 'E_VALIDATION',
      message: /ttl .*unknown unit "fortnights"/,
    });
    await expect(a.acquire('job', { ttl: -5 })).rejects.toMatchObject({ code: 'E_VALIDATION' });
    expect(await a.list()).toEqual([]);
  });

  it_('withLock runs the function while holding the lease, then releases it', async () => {
    const { a, b } = await setup();
    const ran = await a.withLock(
      'cron:nightly',
      async ({ token }) => {
        expect(await b.withLock('cron:nightly', () => 'second')).toEqual({ acquired: false });
        return `ran with ${token}`;
      },
      { ttl: '30s' },
    );
    expect(ran).toEqual({ acquired: true, result: 'ran with 1' });
    expect(await a.holder('cron:nightly')).toBeNull();
  });

  it_('withLock renews a long-running holder and waits for a busy lease when asked', async () => {
    const { clock, a, b } = await setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const first = a.withLock('job', () => gate, { ttl: 3000 });
    await advanceInSteps(clock, 10_000, 1000); // renewals every 1 s keep the 3 s lease alive
    expect(await b.holder('job')).toMatchObject({ owner: 'a' });
    const second = b.withLock('job', () => 'b ran', { ttl: 3000, wait: '5s', retryEvery: 500 });
    await advanceInSteps(clock, 1000, 500, 2);
    release();
    await first;
    await advanceInSteps(clock, 500, 500, 0);
    expect(await second).toEqual({ acquired: true, result: 'b ran' });
  });

  it_('withLock aborts the signal and rejects with E_LOCK_LOST when the lease is taken over', async () => {
    const { clock, store, a } = await setup();
    const thief = new Locks(store.locks, clock, 'thief');
    let seenSignal: AbortSignal | undefined;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const run = a.withLock(
      'job',
      async ({ signal }) => {
        seenSignal = signal;
        await gate;
      },
      { ttl: 3000 },
    );
    const outcome = run.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await vi.waitFor(async () => expect(await thief.holder('job')).toMatchObject({ owner: 'a' }));
    await vi.waitFor(() => expect(clock.pendingSleeps).toBeGreaterThan(0)); // the renewer is asleep
    // Simulate a stall: time jumps past the TTL without the renewer getting to run.
    clock.set(clock.now() + 5000);
    expect(await thief.acquire('job', { ttl: 60_000 })).toMatchObject({ token: 2 });
    await advanceInSteps(clock, 1000, 1000, 0);
    await vi.waitFor(() => expect(seenSignal?.aborted).toBe(true));
    release();
    expect(await outcome).toMatchObject({ code: 'E_LOCK_LOST' });
    expect(await thief.holder('job')).toMatchObject({ owner: 'thief', token: 2 });
  });

  it_(
    'under contention from 8 connections, one holder at a time and strictly increasing tokens',
    async () => {
      const url = backend.freshUrl();
      const clock = new RealClock();
      const stores = await Promise.all(
        Array.from({ length: 8 }, () => backend.open({ url, clock, poolSize: 1 })),
      );
      let holders = 0;
      let maxHolders = 0;
      const tokens: number[] = [];
      let takeovers = 0;
      const deadline = Date.now() + 3000;
      await Promise.all(
        stores.map(async (store, i) => {
          const locks = new Locks(store.locks, clock, `contender-${i}`);
          let round = 0;
          while (Date.now() < deadline) {
            round++;
            const lease = await locks.acquire('race', { ttl: 500 });
            if (!lease) {
              await new Promise((r) => setImmediate(r));
              continue;
            }
            holders++;
            maxHolders = Math.max(maxHolders, holders);
            tokens.push(lease.token);
            await new Promise((r) => setTimeout(r, Math.random() * 3));
            holders--;
            if (round % 25 === 0) {
              // Crash while holding: never release, so the next holder must wait for the TTL.
              takeovers++;
              await new Promise((r) => setTimeout(r, 510));
              continue;
            }
            expect(await locks.release(lease)).toBe(true);
          }
        }),
      );
      expect(maxHolders).toBe(1);
      expect(tokens.length).toBeGreaterThan(50);
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBe(tokens[i - 1]! + 1);
      expect(takeovers).toBeGreaterThan(0);
    },
  );
});
