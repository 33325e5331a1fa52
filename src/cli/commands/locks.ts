// `mainspring locks list|release`: see who holds which lease, and end one, by its token or,
// for a holder that is stuck or gone, by force. Speaks to the API (/v1/locks), over HTTP
// with --url or in this process over the store.

import type { Command } from 'commander';
import { MainspringError } from '../../core/errors.ts';
import { addClientOptions, type ClientFlags, out, withClient } from '../connect.ts';
import { flagInt } from '../flags.ts';
import { table } from '../table.ts';

/** A lease as the API sends it: dates are ISO strings. */
interface LeaseJson {
  readonly name: string;
  readonly owner: string;
  readonly token: number;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

const enc = encodeURIComponent;

function printLeases(leases: readonly LeaseJson[]): void {
  if (leases.length === 0) {
    out('no locks held');
    return;
  }
  table([
    ['NAME', 'OWNER', 'TOKEN', 'ACQUIRED', 'EXPIRES'],
    ...leases.map((l) => [l.name, l.owner, String(l.token), l.acquiredAt, l.expiresAt]),
  ]);
}

export function registerLocksCommand(program: Command): void {
  const locks = program.command('locks').description('leases: list, release');
  const sub = (name: string, description: string) =>
    addClientOptions(locks.command(name).description(description));

  sub('list', 'the leases held now').action((flags: ClientFlags) =>
    withClient(flags, 'read', async (client) => {
      const { locks: held } = await client.get<{ locks: LeaseJson[] }>('/v1/locks');
      if (flags.json) out(JSON.stringify(held, null, 2));
      else printLeases(held);
    }),
  );

  // The lease's token is --fencing-token: --token is the API token of --url, as everywhere.
  sub('release', 'end a lease: the one held with --fencing-token, or with --force whichever is held')
    .argument('<name>', 'the lock name')
    .option('--fencing-token <n>', "the holder's token, as `locks list` prints it")
    .option('--force', 'end the lease whoever holds it: for a holder that is stuck or gone')
    .addHelpText(
      'after',
      '\nA holder whose lease was ended is refused when it next renews or releases, and the next\nacquire gets a higher token, so writes fenced by the token stay safe.\n\nExamples:\n  mainspring locks release nightly-export --fencing-token 7\n  mainspring locks release nightly-export --force\n  mainspring locks release nightly-export --force --url https://jobs.example.com --token "$TOKEN"',
    )
    .action((name: string, flags: ClientFlags & { fencingToken?: string; force?: boolean }) => {
      if ((flags.fencingToken === undefined) === (flags.force === undefined)) {
        throw new MainspringError(
          'E_VALIDATION',
          `give one of --fencing-token N (the holder's token, as \`locks list\` prints it) or --force (end the lease on "${name}" whoever holds it)`,
          { details: { field: 'fencing-token' } },
        );
      }
      const token =
        flags.fencingToken === undefined
          ? null
          : flagInt(flags.fencingToken, '--fencing-token', 1, Number.MAX_SAFE_INTEGER);
      return withClient(flags, 'write', async (client) => {
        const path = `/v1/locks/${enc(name)}`;
        if (token !== null) {
          await client.delete(path, { token });
          out(
            flags.json
              ? JSON.stringify({ released: { name, token } })
              : `released lock ${name} (token ${token})`,
          );
          return;
        }
        const { released } = await client.delete<{ released: LeaseJson | null }>(path, { force: 1 });
        if (flags.json) out(JSON.stringify({ released }, null, 2));
        else if (released === null) out(`lock ${name} is not held; nothing to release`);
        else out(`released lock ${name} held by ${released.owner} (token ${released.token})`);
      });
    });
}
