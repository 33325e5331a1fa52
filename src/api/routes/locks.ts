// /v1/locks: the lease API over HTTP, so processes that are not Node (a shell
// script in a cron container, a Python worker) can share leases with ours.

import { MainspringError } from '../../core/errors.ts';
import type { Lease } from '../../locks/locks.ts';
import { OPERATIONS } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

/** Holders a forced release tries before giving up: each try loses only to a takeover. */
const FORCE_ATTEMPTS = 3;

const leaseJson = (l: Lease) => ({
  ...l,
  acquiredAt: l.acquiredAt.toISOString(),
  expiresAt: l.expiresAt.toISOString(),
});

function conflict(name: string, holder: Lease | null): MainspringError {
  return new MainspringError(
    'E_CONFLICT',
    holder
      ? `lock "${name}" is held by ${holder.owner} until ${holder.expiresAt.toISOString()}`
      : `lock "${name}" is not held with that token (it expired or was taken over)`,
    { details: holder ? { owner: holder.owner, expiresAt: holder.expiresAt.toISOString() } : undefined },
  );
}

export function lockRoutes(app: Api, { locks }: ApiDeps): void {
  app.get(
    '/v1/locks',
    {
      schema: {
        ...OPERATIONS.listLocks.schema,
        summary: 'List held leases',
        tags: ['locks'],
      },
    },
    async () => ({ locks: (await locks.list()).map(leaseJson) }),
  );

  app.get(
    '/v1/locks/:name',
    {
      schema: {
        ...OPERATIONS.getLock.schema,
        summary: 'Who holds a lease now',
        tags: ['locks'],
      },
    },
    async (req) => {
      const lease = await locks.holder(req.params.name);
      if (!lease) throw new MainspringError('E_NOT_FOUND', `lock "${req.params.name}" is not held`);
      return leaseJson(lease);
    },
  );

  app.post(
    '/v1/locks/:name',
    {
      schema: {
        ...OPERATIONS.acquireLock.schema,
        summary: 'Acquire a lease',
        description: 'Takes the lease if it is free or expired; 409 while someone else holds it.',
        tags: ['locks'],
      },
    },
    async (req) => {
      const lease = await locks.acquire(req.params.name, {
        ttl: req.body.ttl,
        ...(req.body.owner ? { owner: req.body.owner } : {}),
      });
      if (!lease) throw conflict(req.params.name, await locks.holder(req.params.name));
      return leaseJson(lease);
    },
  );

  app.post(
    '/v1/locks/:name/renew',
    {
      schema: {
        ...OPERATIONS.renewLock.schema,
        summary: 'Renew a held lease',
        tags: ['locks'],
      },
    },
    async (req) => {
      const lease = await locks.renew(
        { name: req.params.name, token: req.body.token },
        { ttl: req.body.ttl },
      );
      if (!lease) throw conflict(req.params.name, null);
      return leaseJson(lease);
    },
  );

  app.delete(
    '/v1/locks/:name',
    {
      schema: {
        ...OPERATIONS.releaseLock.schema,
        summary: 'Release a lease',
        description:
          'With `token`: the holder gives its lease up (204); 409 when that token no longer holds it. ' +
          'With `force=1`: an operator ends whichever lease is held now, without knowing its token ' +
          '(a holder that is stuck or gone); 200 with the lease that was ended, or `null` when none ' +
          'was held. The next acquire gets a higher token, so a forced-out holder is refused when it ' +
          'renews or releases. Give one of the two.',
        tags: ['locks'],
      },
    },
    async (req, reply) => {
      const { name } = req.params;
      const { token, force } = req.query;
      if ((token === undefined) === (force === undefined)) {
        throw new MainspringError(
          'E_VALIDATION',
          `releasing lock "${name}" needs one of token=N (the holder's fencing token) or force=1 (end whichever lease is held)`,
          { details: { field: 'query.token', message: 'is required unless force=1 is given' } },
        );
      }
      if (token !== undefined) {
        const released = await locks.release({ name, token: Number(token) });
        if (!released) throw conflict(name, null);
        return reply.status(204).send(null);
      }
      // Released by the token read just before, so a lease taken over in between is never
      // ended by mistake; then the next holder is read and tried in turn.
      for (let attempt = 0; attempt < FORCE_ATTEMPTS; attempt++) {
        const holder = await locks.holder(name);
        if (holder === null) return { released: null };
        if (await locks.release(holder)) return { released: leaseJson(holder) };
      }
      throw conflict(name, await locks.holder(name));
    },
  );
}
