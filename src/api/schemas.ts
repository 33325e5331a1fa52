// Schemas shared by several routes.

import { Type } from 'typebox';

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable error code, e.g. E_VALIDATION (see docs/errors.md)' }),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'Error', description: 'Every error the API returns has this shape.' },
);

/** A duration: milliseconds, or a string such as "30s", "5m", "24h". */
export const DurationSchema = Type.Union(
  [Type.Integer({ minimum: 0 }), Type.String({ minLength: 1, maxLength: 64 })],
  {
    description: 'Milliseconds, or a string such as "30s", "5m", "24h"',
  },
);
