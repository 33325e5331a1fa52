// The dedicated LISTEN connection. A pooled client cannot hold LISTEN state, so
// one long-lived client carries every channel; when it drops it reconnects with
// backoff and re-subscribes. Notifications sent while it was down are lost, which
// is why NOTIFY is only a latency hint and consumers also poll — and why a LISTEN that
// cannot be made now is retried in the background rather than failing its caller.

import pg from 'pg';
import { Backoff } from '../../core/backoff.ts';
import { clientConfig, type PgTarget } from './connect.ts';

type Handler = (payload: string) => void;

export class PgListener {
  readonly #target: PgTarget;
  readonly #channels = new Map<string, Set<Handler>>();
  #client: pg.Client | null = null;
  /** The LISTEN connection's server process while it is connected: messages are pushed only through it. */
  #pid: number | null = null;
  #connecting: Promise<pg.Client> | null = null;
  #closed = false;
  readonly #backoff = new Backoff({ baseMs: 100, maxMs: 5000 });
  #retryTimer: NodeJS.Timeout | null = null;

  constructor(target: PgTarget) {
    this.#target = target;
  }

  /**
   * The server process id of the LISTEN connection, or null while it is down. A consumer's offer
   * to take pushed messages names it, and a send pushes only while that process lives: a push
   * to a connection that is gone would be lost, its message leased until its visibility timeout.
   */
  get pid(): number | null {
    return this.#pid;
  }

  /** Channels are namespaced by schema so stores in different schemas never hear each other. */
  channelName(channel: string): string {
    return `${this.#target.schema}.${channel}`;
  }

  async listen(channel: string, handler: Handler): Promise<() => Promise<void>> {
    const name = this.channelName(channel);
    let handlers = this.#channels.get(name);
    if (!handlers) {
      handlers = new Set();
      this.#channels.set(name, handlers);
      try {
        const client = await this.#connect();
        await client.query(`LISTEN ${pg.escapeIdentifier(name)}`);
      } catch {
        // The reconnect subscribes every channel, this one included.
        this.#scheduleReconnect();
      }
    }
    handlers.add(handler);
    return async () => {
      const set = this.#channels.get(name);
      if (!set?.delete(handler) || set.size > 0) return;
      this.#channels.delete(name);
      await this.#client?.query(`UNLISTEN ${pg.escapeIdentifier(name)}`).catch(() => {});
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    const client = this.#client ?? (await this.#connecting?.catch(() => null));
    this.#client = null;
    this.#pid = null;
    await client?.end().catch(() => {});
  }

  #connect(): Promise<pg.Client> {
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= (async () => {
      const client = new pg.Client(clientConfig(this.#target));
      client.on('notification', (msg) => {
        for (const h of this.#channels.get(msg.channel) ?? []) h(msg.payload ?? '');
      });
      client.on('error', () => this.#lost(client));
      client.on('end', () => this.#lost(client));
      try {
        await client.connect();
        // From the connection's BackendKeyData: the pid pg_backend_pid() would return, with no round trip.
        this.#pid = (client as pg.Client & { processID: number | null }).processID;
      } catch (err) {
        client.end().catch(() => {});
        throw err;
      } finally {
        this.#connecting = null;
      }
      this.#client = client;
      this.#backoff.reset();
      return client;
    })();
    return this.#connecting;
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = null;
    this.#pid = null;
    // Ended here rather than left to the server: a client that errored may still hold its socket.
    client.end().catch(() => {});
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#channels.size === 0 || this.#retryTimer) return;
    this.#retryTimer = setTimeout(async () => {
      this.#retryTimer = null;
      try {
        const client = await this.#connect();
        for (const name of this.#channels.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(name)}`);
      } catch {
        this.#scheduleReconnect();
      }
    }, this.#backoff.next());
    this.#retryTimer.unref();
  }
}
