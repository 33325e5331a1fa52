// The public API of mainspring: everything a user imports comes from here.

export { type CreateMainspringOptions, createMainspring, type Mainspring } from './app.ts';
export { defineConfig, type LogLevel, type MainspringConfig } from './config.ts';
export { type Clock, clockFromEnv, FakeClock, RealClock, ScaledClock } from './core/clock.ts';
export { type Duration, parseDuration } from './core/duration.ts';
export { ERROR_CODES, type ErrorCode, isMainspringError, MainspringError } from './core/errors.ts';
export {
  type AcquireOptions,
  type Lease,
  Locks,
  type WithLockOptions,
  type WithLockResult,
} from './locks/locks.ts';
export { type OpenStoreOptions, openStore } from './store/open.ts';
export type { Backend, LockRow, LockStore, Store, StoreCapabilities } from './store/types.ts';
