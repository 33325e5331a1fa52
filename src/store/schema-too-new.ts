import { MainspringError } from '../core/errors.ts';

export function schemaTooNew(where: string, found: number, known: number): MainspringError {
  return new MainspringError(
    'E_STORE_SCHEMA_TOO_NEW',
    `${where} was migrated by a newer mainspring (schema version ${found}; this version knows up to ${known}); upgrade mainspring, or point --db / DATABASE_URL at another database`,
    { details: { found, known } },
  );
}
