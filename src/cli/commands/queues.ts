// `mainspring queues list|stats|dlq|redrive|purge`: operate on the queues of a store.

import type { Command } from 'commander';
import { MainspringError } from '../../core/errors.ts';
import type { MessageInfo, QueueInfo } from '../../queue/queues.ts';
import { shortDuration, table } from '../table.ts';
import { out, type StoreFlags, withApp } from '../with-app.ts';
import { addConfigOption, addStoreOption } from './start.ts';

interface Flags extends StoreFlags {
  json?: boolean;
}

function printQueues(queues: QueueInfo[]): void {
  table([
    ['QUEUE', 'VISIBLE', 'IN FLIGHT', 'DELAYED', 'DEAD', 'OLDEST', 'FIFO', 'DLQ'],
    ...queues.map((q) => [
      q.name,
      String(q.counts.visible),
      String(q.counts.inFlight),
      String(q.counts.delayed),
      String(q.counts.dead),
      shortDuration(q.counts.oldestAgeMs),
      q.settings.fifo ? 'yes' : 'no',
      q.settings.deadLetterQueue ?? '-',
    ]),
  ]);
}

function printMessages(messages: MessageInfo[]): void {
  if (messages.length === 0) {
    out('no dead letters');
    return;
  }
  for (const m of messages) {
    const last = m.errors.at(-1) as { message?: string } | undefined;
    out(`${m.id}  died ${m.deadAt?.toISOString() ?? '-'}  ${JSON.stringify(m.body).slice(0, 120)}`);
    out(`    ${m.errors.length} error(s); last: ${last?.message ?? '-'}`);
  }
}

export function registerQueuesCommand(program: Command): void {
  const queues = program
    .command('queues')
    .description('inspect and operate queues: list, stats, dlq, redrive, purge');
  const sub = (name: string, description: string) =>
    addConfigOption(addStoreOption(queues.command(name).description(description))).option(
      '--json',
      'print JSON',
    );

  sub('list', 'every queue with its counts').action((flags: Flags) =>
    withApp(flags, async (ms) => {
      const list = await ms.queues.list();
      if (flags.json) out(JSON.stringify(list, null, 2));
      else printQueues(list);
    }),
  );

  sub('stats', "one queue's settings and counts")
    .argument('<queue>')
    .action((queue: string, flags: Flags) =>
      withApp(flags, async (ms) => {
        const info = await ms.queues.stats(queue);
        if (flags.json) out(JSON.stringify(info, null, 2));
        else printQueues([info]);
      }),
    );

  sub('dlq', 'the dead letters that came from a queue, oldest first')
    .argument('<queue>')
    .option('--limit <n>', 'at most this many', '100')
    .option('--after <id>', 'start after this message id')
    .action((queue: string, flags: Flags & { limit: string; after?: string }) =>
      withApp(flags, async (ms) => {
        const limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
          throw new MainspringError(
            'E_VALIDATION',
            `--limit is ${JSON.stringify(flags.limit)}; use a whole number from 1 to 1000`,
          );
        }
        const messages = await ms.queues.deadLetters(queue, {
          limit,
          ...(flags.after ? { after: flags.after } : {}),
        });
        if (flags.json) out(JSON.stringify(messages, null, 2));
        else printMessages(messages);
      }),
    );

  sub('redrive', 'move dead letters back into their queue (all, or --ids)')
    .argument('<queue>')
    .option('--ids <ids>', 'comma-separated message ids')
    .action((queue: string, flags: Flags & { ids?: string }) =>
      withApp(flags, async (ms) => {
        const ids = flags.ids
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const n = await ms.queues.redrive(queue, ids ? { ids } : {});
        out(flags.json ? JSON.stringify({ redriven: n }) : `redrove ${n} message(s) into ${queue}`);
      }),
    );

  sub('purge', 'delete every message of a queue')
    .argument('<queue>')
    .option('--yes', 'confirm: purging cannot be undone')
    .action((queue: string, flags: Flags & { yes?: boolean }) =>
      withApp(flags, async (ms) => {
        if (!flags.yes) {
          throw new MainspringError(
            'E_VALIDATION',
            `purging "${queue}" deletes all its messages for good; add --yes to confirm`,
          );
        }
        const n = await ms.queues.purge(queue);
        out(flags.json ? JSON.stringify({ purged: n }) : `purged ${n} message(s) from ${queue}`);
      }),
    );
}
