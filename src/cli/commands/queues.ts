// `mainspring queues list|stats|send|dlq|redrive|purge|pause|resume`: operate on queues. Each speaks to
// the API (/v1/queues), over HTTP with --url or in this process over the store.

import type { Command } from 'commander';
import { MainspringError } from '../../core/errors.ts';
import type { QueueInfo } from '../../queue/queues.ts';
import { addClientOptions, type ClientFlags, out, withClient } from '../connect.ts';
import { flagDuration, flagInt, parseInput } from '../flags.ts';
import { shortDuration, table } from '../table.ts';

/** A message as the API sends it: dates are ISO strings. */
interface MessageJson {
  readonly id: string;
  readonly body: unknown;
  readonly errors: unknown[];
  readonly deadAt: string | null;
}

const enc = encodeURIComponent;

/** The largest priority the queues accept either way (a 32-bit integer). */
const MAX_PRIORITY = 2 ** 31 - 1;

const MESSAGE_ID = /^[1-9][0-9]{0,15}$/;

/** A bad message id is a usage error naming the flag (the route would name its own field). */
function badIds(flag: string, text: string, example: string): MainspringError {
  return new MainspringError(
    'E_VALIDATION',
    `${flag} is ${JSON.stringify(text)}; use ${example}, as \`queues dlq\` prints them`,
    { details: { field: flag.replace(/^--/, ''), value: text } },
  );
}

/** --debounce-key/--throttle-key with --period (and --max-wait, --throttle-mode) as the send options. */
function gateFlags(flags: {
  debounceKey?: string;
  throttleKey?: string;
  period?: string;
  maxWait?: string;
  throttleMode?: string;
}): object {
  const usage = (flag: string, fix: string) =>
    new MainspringError('E_VALIDATION', `${flag} ${fix}`, { details: { field: flag.replace(/^--/, '') } });
  const key = flags.debounceKey ?? flags.throttleKey;
  if (key === undefined) {
    const stray = flags.period !== undefined ? '--period' : flags.maxWait !== undefined ? '--max-wait' : null;
    if (stray) throw usage(stray, 'needs --debounce-key or --throttle-key; add one, or drop it');
    if (flags.throttleMode !== undefined)
      throw usage('--throttle-mode', 'needs --throttle-key; add it, or drop it');
    return {};
  }
  if (flags.period === undefined)
    throw usage('--period', 'is required with a debounce or throttle key; e.g. --period 5s');
  // Checked here, naming the flag; sent as written, so the API's bounds error quotes it.
  flagDuration(flags.period, '--period');
  const period = flags.period;
  if (flags.debounceKey === undefined) {
    if (flags.maxWait !== undefined) throw usage('--max-wait', 'goes with --debounce-key only; drop it');
    const mode = flags.throttleMode;
    return { throttle: { key, period, ...(mode !== undefined ? { mode } : {}) } };
  }
  if (flags.throttleMode !== undefined)
    throw usage('--throttle-mode', 'goes with --throttle-key only; drop it');
  if (flags.maxWait !== undefined) flagDuration(flags.maxWait, '--max-wait');
  const maxWait = flags.maxWait === undefined ? {} : { maxWait: flags.maxWait };
  // With both keys the API refuses the pair, naming throttle.
  return {
    debounce: { key, period, ...maxWait },
    ...(flags.throttleKey !== undefined ? { throttle: { key: flags.throttleKey, period } } : {}),
  };
}

function flagIds(text: string): string[] {
  const ids = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0 || !ids.every((id) => MESSAGE_ID.test(id)))
    throw badIds('--ids', text, 'comma-separated message ids such as 12,13');
  return ids;
}

function printQueues(queues: readonly QueueInfo[]): void {
  table([
    ['QUEUE', 'VISIBLE', 'IN FLIGHT', 'DELAYED', 'DEAD', 'OLDEST', 'FIFO', 'DLQ', 'PAUSED'],
    ...queues.map((q) => [
      q.name,
      String(q.counts.visible),
      String(q.counts.inFlight),
      String(q.counts.delayed),
      String(q.counts.dead),
      shortDuration(q.counts.oldestAgeMs),
      q.settings.fifo ? 'yes' : 'no',
      q.settings.deadLetterQueue ?? '-',
      q.paused ? 'yes' : 'no',
    ]),
  ]);
}

function printMessages(messages: readonly MessageJson[]): void {
  if (messages.length === 0) {
    out('no dead letters');
    return;
  }
  for (const m of messages) {
    const last = m.errors.at(-1) as { message?: string } | undefined;
    out(`${m.id}  died ${m.deadAt ?? '-'}  ${JSON.stringify(m.body).slice(0, 120)}`);
    out(`    ${m.errors.length} error(s); last: ${last?.message ?? '-'}`);
  }
}

export function registerQueuesCommand(program: Command): void {
  const queues = program
    .command('queues')
    .description('inspect and operate queues: list, stats, send, dlq, redrive, purge, pause, resume');
  const sub = (name: string, description: string) =>
    addClientOptions(queues.command(name).description(description));

  sub('list', 'every queue with its counts').action((flags: ClientFlags) =>
    withClient(flags, 'read', async (client) => {
      const { queues: list } = await client.get<{ queues: QueueInfo[] }>('/v1/queues');
      if (flags.json) out(JSON.stringify(list, null, 2));
      else printQueues(list);
    }),
  );

  sub('stats', "one queue's settings and counts")
    .argument('<queue>')
    .action((queue: string, flags: ClientFlags) =>
      withClient(flags, 'read', async (client) => {
        const info = await client.get<QueueInfo>(`/v1/queues/${enc(queue)}`);
        if (flags.json) out(JSON.stringify(info, null, 2));
        else printQueues([info]);
      }),
    );

  sub('send', 'send one message to a queue; prints its id')
    .argument('<queue>')
    .requiredOption('--body <json>', 'the message body, as JSON')
    .option('--delay <duration>', 'deliver no sooner than this from now (e.g. 10m, 2d)')
    .option('--group <id>', 'FIFO queues (required there): the ordered group')
    .option('--dedup-key <key>', 'a second send with this key within the dedup window stores nothing')
    .option(
      '--debounce-key <key>',
      'debounce: replace the pending message of this key; it runs --period after the last send',
    )
    .option('--throttle-key <key>', 'throttle: at most one message of this key per --period')
    .option(
      '--period <duration>',
      'with --debounce-key or --throttle-key: the quiet period or spacing (1ms to 12h)',
    )
    .option('--max-wait <duration>', 'with --debounce-key: never later than this after the first send')
    .option('--throttle-mode <mode>', 'with --throttle-key: drop (default) or delay')
    .option('--priority <n>', 'higher is delivered first (default 0)')
    .addHelpText(
      'after',
      `\nWith --dedup-key, a repeated send prints the id of the first message; with --debounce-key, the id of the pending message it replaced; with --throttle-key (drop), the id of the accepted one.\n\nExamples:\n  mainspring queues send orders --body '{"id": 42}'\n  mainspring queues send orders --body '{"id": 42}' --delay 10m --priority 5\n  mainspring queues send reindex --body '{"customer": 42}' --debounce-key customer-42 --period 5s\n  mainspring queues send orders --body '"hi"' --url https://jobs.example.com --token "$TOKEN"`,
    )
    .action(
      (
        queue: string,
        flags: ClientFlags & {
          body: string;
          delay?: string;
          group?: string;
          dedupKey?: string;
          debounceKey?: string;
          throttleKey?: string;
          period?: string;
          maxWait?: string;
          throttleMode?: string;
          priority?: string;
        },
      ) => {
        const entry = {
          body: parseInput(flags.body, '--body'),
          ...(flags.delay !== undefined ? { delay: flagDuration(flags.delay, '--delay') } : {}),
          ...(flags.group !== undefined ? { groupId: flags.group } : {}),
          ...(flags.dedupKey !== undefined ? { dedupKey: flags.dedupKey } : {}),
          ...gateFlags(flags),
          ...(flags.priority !== undefined
            ? { priority: flagInt(flags.priority, '--priority', -MAX_PRIORITY, MAX_PRIORITY) }
            : {}),
        };
        return withClient(flags, 'write', async (client) => {
          const sent = await client.post<{ id: string }>(`/v1/queues/${enc(queue)}/messages`, entry);
          out(flags.json ? JSON.stringify(sent) : sent.id);
        });
      },
    );

  sub('dlq', 'the dead letters that came from a queue, oldest first')
    .argument('<queue>')
    .option('--limit <n>', 'at most this many', '100')
    .option('--after <id>', 'start after this message id')
    .action((queue: string, flags: ClientFlags & { limit: string; after?: string }) => {
      const limit = flagInt(flags.limit, '--limit', 1, 1000);
      if (flags.after !== undefined && !MESSAGE_ID.test(flags.after))
        throw badIds('--after', flags.after, 'a message id such as 12');
      return withClient(flags, 'read', async (client) => {
        const { messages } = await client.get<{ messages: MessageJson[] }>(`/v1/queues/${enc(queue)}/dlq`, {
          limit,
          after: flags.after,
        });
        if (flags.json) out(JSON.stringify(messages, null, 2));
        else printMessages(messages);
      });
    });

  sub('redrive', 'move dead letters back into their queue (all, or --ids)')
    .argument('<queue>')
    .option('--ids <ids>', 'comma-separated message ids')
    .action((queue: string, flags: ClientFlags & { ids?: string }) => {
      const ids = flags.ids === undefined ? undefined : flagIds(flags.ids);
      return withClient(flags, 'write', async (client) => {
        const { redriven } = await client.post<{ redriven: number }>(
          `/v1/queues/${enc(queue)}/redrive`,
          ids ? { ids } : {},
        );
        out(flags.json ? JSON.stringify({ redriven }) : `redrove ${redriven} message(s) into ${queue}`);
      });
    });

  sub('purge', 'delete every message of a queue')
    .argument('<queue>')
    .option('--yes', 'confirm: purging cannot be undone')
    .action((queue: string, flags: ClientFlags & { yes?: boolean }) => {
      if (!flags.yes) {
        throw new MainspringError(
          'E_VALIDATION',
          `purging "${queue}" deletes all its messages for good; add --yes to confirm`,
          { details: { field: 'yes' } },
        );
      }
      return withClient(flags, 'write', async (client) => {
        const { purged } = await client.delete<{ purged: number }>(`/v1/queues/${enc(queue)}/messages`);
        out(flags.json ? JSON.stringify({ purged }) : `purged ${purged} message(s) from ${queue}`);
      });
    });

  for (const action of ['pause', 'resume'] as const) {
    sub(
      action,
      action === 'pause'
        ? 'stop every process receiving from a queue (sends are still stored) until it is resumed'
        : 'let a paused queue be received from again',
    )
      .argument('<queue>')
      .action((queue: string, flags: ClientFlags) =>
        withClient(flags, 'write', async (client) => {
          const state = await client.post<{ name: string; paused: boolean; pausedAt: string | null }>(
            `/v1/queues/${enc(queue)}/${action}`,
          );
          out(
            flags.json
              ? JSON.stringify(state)
              : state.paused
                ? `${queue} is paused (since ${state.pausedAt})`
                : `${queue} is receiving`,
          );
        }),
      );
  }
}
