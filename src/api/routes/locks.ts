// /v1/locks: the lease API over HTTP, so processes that are not Node (a shell
// script in a cron container, a Python worker) can share leases with ours.

import { Type } from 'typebox';
import { MainspringError } from '../../core/errors.ts';
import { NAME_LIMITS } from '../../core/names.ts';
import type { Lease } from '../../locks/locks.ts';
import { DurationSchema, ErrorSchema } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

const LeaseSchema = Type.Object({
  name: Type.String(),
  owner: Type.String(),
  token: Type.Integer({ description: 'Fencing token: strictly increasing per lock name' }),
  acquiredAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
});

/** Holders a forced release tries before giving up: each try loses only to a takeover. */
const FORCE_ATTEMPTS = 3;

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: NAME_LIMITS.lock }) });

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
        summary: 'List held leases',
        tags: ['locks'],
        response: { 200: Type.Object({ locks: Type.Array(LeaseSchema) }) },
      },
    },
    async () => ({ locks: (await locks.list()).map(leaseJson) }),
  );

  app.get(
    '/v1/locks/:name',
    {
      schema: {
        summary: 'Who holds a lease now',
        tags: ['locks'],
        params: NameParams,
        response: { 200: LeaseSchema, 404: ErrorSchema },
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
        summary: 'Acquire a lease',
        description: 'Takes the lease if it is free or expired; 409 while someone else holds it.',
        tags: ['locks'],
        params: NameParams,
        body: Type.Object(
          { ttl: DurationSchema, owner: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
          { additionalProperties: false },
        ),
        response: { 200: LeaseSchema, 409: ErrorSchema },
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
        summary: 'Renew a held lease',
        tags: ['locks'],
        params: NameParams,
        body: Type.Object(
          // Past a safe integer PostgreSQL's bigint overflows (1e308 is an integer to JSON Schema).
          { token: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), ttl: DurationSchema },
          { additionalProperties: false },
        ),
        response: { 200: LeaseSchema, 409: ErrorSchema },
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
        summary: 'Release a lease',
        description:
          'With `token`: the holder gives its lease up (204); 409 when that token no longer holds it. ' +
          'With `force=1`: an operator ends whichever lease is held now, without knowing its token ' +
          '(a holder that is stuck or gone); 200 with the lease that was ended, or `null` when none ' +
          'was held. The next acquire gets a higher token, so a forced-out holder is refused when it ' +
          'renews or releases. Give one of the two.',
        tags: ['locks'],
        params: NameParams,
        querystring: Type.Object(
          {
            token: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$' })),
            force: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('true')])),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ released: Type.Union([LeaseSchema, Type.Null()]) }),
          204: Type.Null(),
          400: ErrorSchema,
          409: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const { name } = req.params;
      const { token, force } = req.query;
      if ((token === undefined) === (force === undefined)) {
        throw new MainspringError(
          'E_VALIDATION',
          `releasing lock "${name}" needs one of token=N (the holder's fencing token) or force=1 (end whichever lease is held)`,
          { details: { field: 'querystring.token' } },
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
