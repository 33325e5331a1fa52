// A throwaway PostgreSQL cluster for fault tests and chaos scenarios: its own data
// directory in a temp folder, its own port and socket, so a test may restart it or
// terminate every connection without touching the shared server on 5432.
//
// Why a temp-dir cluster rather than `pg_createcluster`: nothing is registered with the
// system (/etc/postgresql, systemd), two test files or chaos runs never collide on a name
// or port, and a crashed run leaves only a folder in the temp dir behind.
//
// PostgreSQL refuses to run as root, so as root (CI) every server command runs as the
// `postgres` user through runuser, in a folder chowned to it.

import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** The server binaries: PG_BIN if set, else the newest /usr/lib/postgresql/<n>/bin, else pg_config's. */
export function findPgBin(): string | null {
  const env = process.env['PG_BIN'];
  if (env) return existsSync(join(env, 'pg_ctl')) ? env : null;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    return existsSync(join(dir, 'pg_ctl')) ? dir : null;
  } catch {
    return null;
  }
}

const PG_BIN = findPgBin();
const AS_ROOT = process.getuid?.() === 0;
const SERVER_USER = AS_ROOT ? 'postgres' : userInfo().username;

/** Why a disposable cluster cannot be made here, or undefined when it can. */
export const PG_CLUSTER_UNAVAILABLE: string | undefined = (() => {
  if (PG_BIN === null) return 'no PostgreSQL server binaries (set PG_BIN to the folder holding pg_ctl)';
  if (AS_ROOT) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    } catch {
      return 'running as root but there is no postgres user to run the server as';
    }
  }
  return undefined;
})();

/** A port nothing listens on at the moment. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface PgClusterOptions {
  /** Extra server settings (`-c name=value`). */
  readonly settings?: Record<string, string>;
}

export class PgCluster {
  readonly dir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  readonly port: number;
  readonly #settings: Record<string, string>;
  #running = false;
  #destroyed = false;
  readonly #onExit = () => this.#stopSync();

  private constructor(dir: string, port: number, settings: Record<string, string>) {
    this.dir = dir;
    this.dataDir = join(dir, 'data');
    this.socketDir = join(dir, 'sock');
    this.logFile = join(dir, 'server.log');
    this.port = port;
    this.#settings = settings;
  }

  /** Creates a cluster in a new temp folder and starts it. */
  static async create(options: PgClusterOptions = {}): Promise<PgCluster> {
    if (PG_CLUSTER_UNAVAILABLE)
      throw new Error(`cannot make a PostgreSQL cluster: ${PG_CLUSTER_UNAVAILABLE}`);
    const dir = mkdtempSync(join(tmpdir(), 'mainspring-pg-'));
    const cluster = new PgCluster(dir, await freePort(), {
      // A test cluster: durability across an OS crash is not what is tested (a server
      // restart or crash still keeps every committed transaction; the OS keeps the files).
      fsync: 'off',
      full_page_writes: 'off',
      max_connections: '300',
      shared_buffers: '32MB',
      ...options.settings,
    });
    mkdirSync(cluster.socketDir);
    if (AS_ROOT) {
      const { uid, gid } = idsOf(SERVER_USER);
      chownSync(dir, uid, gid);
      chownSync(cluster.socketDir, uid, gid);
    }
    process.on('exit', cluster.#onExit);
    try {
      await cluster.#server('initdb', ['-D', cluster.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
      await cluster.start();
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  /** A connection URL for database `postgres`, with `?schema=` when given. */
  url(schema?: string): string {
    const u = new URL(`postgres://postgres@127.0.0.1:${this.port}/postgres`);
    if (schema) u.searchParams.set('schema', schema);
    return u.href;
  }

  get running(): boolean {
    return this.#running;
  }

  async start(): Promise<void> {
    const opts = [
      `-p ${this.port}`,
      `-k ${this.socketDir}`,
      '-c listen_addresses=127.0.0.1',
      ...Object.entries(this.#settings).map(([k, v]) => `-c ${k}=${v}`),
    ].join(' ');
    await this.#server('pg_ctl', [
      '-D',
      this.dataDir,
      '-o',
      opts,
      '-l',
      this.logFile,
      '-w',
      '-t',
      '30',
      'start',
    ]);
    this.#running = true;
  }

  /** Stops the server: `fast` ends sessions and checkpoints; `immediate` is a crash (recovery on start). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    this.#running = false;
    await this.#server('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '30', 'stop']);
  }

  /** Stops and starts again on the same port, after `downMs` with nothing listening. */
  async restart(options: { mode?: 'fast' | 'immediate'; downMs?: number } = {}): Promise<void> {
    await this.stop(options.mode ?? 'fast');
    if (options.downMs) await new Promise((r) => setTimeout(r, options.downMs));
    await this.start();
  }

  /**
   * Terminates every client session but the one asking (pg_terminate_backend, as an
   * administrator or a failover does). Returns how many it ended.
   */
  async terminateAll(): Promise<number> {
    const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 5000 });
    client.on('error', () => {});
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (
           SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()) t`,
      );
      return rows[0]?.n ?? 0;
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** The server's log, for a failing test's message. */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** Stops the server at once and removes its folder. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    process.off('exit', this.#onExit);
    if (existsSync(join(this.dataDir, 'postmaster.pid'))) await this.stop('immediate').catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** At process exit (a test runner killed mid-file): leave no server behind. */
  #stopSync(): void {
    if (this.#destroyed || !existsSync(join(this.dataDir, 'postmaster.pid'))) return;
    try {
      execFileSync(...this.#command('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', 'stop']), {
        stdio: 'ignore',
      });
    } catch {}
    rmSync(this.dir, { recursive: true, force: true });
  }

  #command(bin: string, args: string[]): [string, string[]] {
    const file = join(PG_BIN!, bin);
    return AS_ROOT ? ['runuser', ['-u', SERVER_USER, '--', file, ...args]] : [file, args];
  }

  async #server(bin: string, args: string[]): Promise<void> {
    const [file, argv] = this.#command(bin, args);
    try {
      await run(file, argv, { cwd: this.dir });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`${bin} ${args.at(-1)} failed: ${e.stderr || e.stdout || e.message}\n${this.log()}`);
    }
  }
}

function idsOf(user: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  return { uid, gid };
}
