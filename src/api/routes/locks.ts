// /v1/locks: the lease API over HTTP, so processes that are not Node (a shell
// script in a cron container, a Python worker) can share leases with ours.

import { Type } from 'typebox';
import { MainspringError } from '../../core/errors.ts';
import type { Lease } from '../../locks/locks.ts';
import { DurationSchema, ErrorSchema } from '../schemas.ts';
import type { Api, ApiDeps } from '../server.ts';

const LeaseSchema = Type.Object({
  name: Type.String(),
  owner: Type.String(),
  token: Type.Integer({ description: 'Fencing token: strictly increasing per lock name' }),
  acquiredAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
});

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });

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
          { token: Type.Integer({ minimum: 1 }), ttl: DurationSchema },
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
        summary: 'Release a held lease',
        tags: ['locks'],
        params: NameParams,
        querystring: Type.Object(
          { token: Type.String({ pattern: '^[1-9][0-9]{0,15}$' }) },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), 409: ErrorSchema },
      },
    },
    async (req, reply) => {
      const released = await locks.release({ name: req.params.name, token: Number(req.query.token) });
      if (!released) throw conflict(req.params.name, null);
      return reply.status(204).send(null);
    },
  );
}
