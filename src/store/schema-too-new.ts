import { MainspringError } from '../core/errors.ts';

export function schemaTooNew(where: string, found: number, known: number): MainspringError {
  return new MainspringError(
    'E_STORE_SCHEMA_TOO_NEW',
    `${where} was migrated by a newer mainspring (schema version ${found}; this version knows up to ${known}); upgrade mainspring, or point --db / DATABASE_URL at another database`,
    { details: { found, known } },
  );
}

/** A store a reading command found missing or unmigrated: never created behind the user's back. */
export function storeNotFound(where: string, found: number, known: number): MainspringError {
  const why =
    found === 0
      ? 'holds no mainspring store'
      : `is at schema version ${found}, older than this mainspring's ${known}`;
  return new MainspringError(
    'E_STORE_NOT_FOUND',
    `${where} ${why}; check --db / DATABASE_URL (or the config's db), or create and migrate it with \`mainspring migrate --db ${where}\``,
    { details: { field: 'db', value: where, found, known } },
  );
}
