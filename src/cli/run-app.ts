// What `start` and `worker` share: load the config, open the store, register the
// app, run its workers (and, for `start`, the API); on SIGINT/SIGTERM stop taking
// work, let running handlers finish within the grace period, and exit 0.

import type { Logger } from 'pino';
import { assertSafeBinding } from '../api/auth.ts';
import { type Api, buildApi, listenApi } from '../api/server.ts';
import { createMainspring } from '../app.ts';
import { appFromConfig, parseMaxInFlight, parsePort, resolveOptions } from '../config.ts';
import { clockFromEnv, ScaledClock } from '../core/clock.ts';
import type { Worker } from '../runtime/worker.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import { loadConfig } from './load-config.ts';
import { createLogger, resolveLogFormat, storePassword } from './log-format.ts';

export interface RunFlags {
  db?: string;
  port?: string;
  host?: string;
  maxInFlight?: string;
  config?: string;
  logFormat?: string;
}

export interface RunMode {
  readonly api: boolean;
  readonly worker: boolean;
  readonly scheduler: boolean;
}

/**
 * A stop signal repeated within this long is the same request arriving twice: Ctrl-C under
 * `npm start` reaches the server from the terminal and again from npm, which passes it on
 * (npm/cli#5021). A repeat after it stops the process at once.
 */
const REPEAT_SIGNAL_MS = 1_000;
const EXIT_CODE: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** Resolves with the first SIGINT or SIGTERM; a later one (past the echo window) exits at once. */
function stopSignal(logger: Logger): Promise<string> {
  return new Promise((resolve) => {
    let firstAtMs: number | undefined;
    // Listeners stay for the life of the process: between a `once` listener's removal and the
    // next one's addition Node restores the default action, which would kill the process.
    const onSignal = (signal: NodeJS.Signals) => {
      if (firstAtMs === undefined) {
        firstAtMs = performance.now();
        resolve(signal);
      } else if (performance.now() - firstAtMs < REPEAT_SIGNAL_MS) {
        logger.info(
          { signal },
          `${signal} again within ${REPEAT_SIGNAL_MS} ms: the same stop (npm passes Ctrl-C on too); one sent later exits at once`,
        );
      } else {
        process.exit(EXIT_CODE[signal] ?? 1);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export async function runApp(flags: RunFlags, mode: RunMode): Promise<void> {
  // Everything the user can get wrong is checked before the store is touched.
  const logFormat = resolveLogFormat(flags.logFormat, process.env, process.stdout.isTTY === true);
  const { config, path } = await loadConfig(process.cwd(), flags.config);
  const options = resolveOptions(
    {
      ...(flags.db ? { db: flags.db } : {}),
      ...(flags.port !== undefined ? { port: parsePort(flags.port, '--port') } : {}),
      ...(flags.host ? { host: flags.host } : {}),
      ...(flags.maxInFlight !== undefined
        ? { maxInFlight: parseMaxInFlight(flags.maxInFlight, '--max-in-flight') }
        : {}),
    },
    config,
  );
  if (mode.api) assertSafeBinding(options.host, options.token);
  const clock = clockFromEnv();
  const logger = await createLogger(logFormat, options.logLevel, {
    secrets: [options.token, options.readToken, storePassword(options.dbUrl)],
  });
  // Listening from here on, so a signal during start-up (or just after the line saying it is
  // up) stops the process in order rather than killing it.
  const stopping = stopSignal(logger);

  const ms = await createMainspring({
    db: options.dbUrl,
    clock,
    logger,
    ...appFromConfig(config, path),
  });
  let api: Api | undefined;
  let worker: Worker | undefined;
  let scheduler: Scheduler | undefined;
  try {
    // Every function can be invoked (manually, later by schedules), so any function needs a
    // worker; so does any workflow, whose executions only a worker's engine runs.
    const consuming = mode.worker && (ms.functions.length > 0 || ms.workflows.definitions().length > 0);
    if (consuming) {
      worker = await ms.startWorker({
        ...(config.worker?.maxConcurrency ? { maxConcurrency: config.worker.maxConcurrency } : {}),
        ...(config.worker?.pollIntervalMs ? { pollIntervalMs: config.worker.pollIntervalMs } : {}),
      });
    }
    // Every replica runs a scheduler: a tick is claimed by one of them, whichever is first.
    if (mode.scheduler) scheduler = await ms.startScheduler();
    // Route what a crash left unrouted, sweep retention, and watch the file triggers' folders.
    await ms.events.start();
    await ms.startFileTriggers();
    if (clock instanceof ScaledClock) {
      const day = 86_400_000 / clock.scale;
      logger.warn(
        { timeScale: clock.scale },
        `time runs ${clock.scale}× faster than real (MAINSPRING_TIME_SCALE): a day passes in ${day >= 60_000 ? `${+(day / 60_000).toFixed(1)} min` : `${+(day / 1000).toFixed(1)} s`}; leases and timeouts stay real`,
      );
    }
    const info = {
      store: ms.store.url,
      schemaVersion: await ms.store.schemaVersion(),
      config: path,
      queues: (config.queues ?? []).map((q) => q.name),
      functions: ms.functions.map((f) => f.name),
      workflows: ms.workflows.definitions().map((w) => w.name),
      rules: ms.events.rules.map((r) => r.name),
      schedules: await ms.store.scheduler.countSchedules(),
    };
    if (mode.api) {
      api = await buildApi({
        ...ms,
        token: options.token,
        readToken: options.readToken,
        bodyLimit: options.bodyLimit,
        maxInFlight: options.maxInFlight,
        maxQueued: options.maxQueued,
        cors: { origins: options.corsOrigins },
        explorer: options.explorer,
        webhooks: config.webhooks ?? {},
        logger,
      });
      const bound = await listenApi(api, options);
      logger.info(
        { url: bound.url, auth: options.token ? 'bearer' : 'none', ...info },
        `mainspring listening on ${bound.url}`,
      );
      // Where a person who just started it looks next.
      logger.info(
        `look at: ${bound.url}/ (the dashboard) · mainspring runs list · mainspring logs <function> --follow · mainspring queues list · mainspring workflows list`,
      );
    } else {
      logger.info(info, `mainspring ${mode.worker ? 'worker' : 'scheduler'} running`);
    }
  } catch (err) {
    await api?.close();
    await ms.close();
    throw err;
  }

  const signal = await stopping;
  const graceMs = config.worker?.shutdownGraceMs ?? 30_000;
  logger.info({ signal, graceMs }, 'stopping: no new work is taken; waiting for work in flight');
  const force = setTimeout(() => {
    logger.error('did not stop in time; exiting');
    process.exit(1);
  }, graceMs + 15_000).unref();
  await scheduler?.stop();
  await Promise.all([api?.close(), worker?.stop({ graceMs })]);
  await ms.close();
  clearTimeout(force);
  logger.info('stopped');
}
