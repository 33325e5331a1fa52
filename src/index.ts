// The public API of mainspring: everything a user imports comes from here.

// First, so an older Node.js is told what it needs before anything needs node:sqlite.
import './core/require-node.ts';

export {
  type CreateMainspringOptions,
  createMainspring,
  type Mainspring,
  type SchedulerSettings,
} from './app.ts';
export { appFromConfig, defineConfig, type LogLevel, type MainspringConfig } from './config.ts';
export { type Clock, clockFromEnv, FakeClock, RealClock, ScaledClock } from './core/clock.ts';
export { type Duration, parseDuration } from './core/duration.ts';
export { ERROR_CODES, type ErrorCode, isMainspringError, MainspringError } from './core/errors.ts';
export { EventBus, type PutTransactionOptions } from './events/bus.ts';
export type { RuleInput } from './events/bus-input.ts';
export type {
  BusEvent,
  EventPublisher,
  PutEventEntry,
  PutEventResultEntry,
  PutEventsResult,
  ReplayOptions,
  ReplayResult,
  StoredEvent,
} from './events/event.ts';
export {
  defineFileTrigger,
  type FileTriggerDefinition,
  type FileTriggerOptions,
  type ObjectCreatedDetail,
} from './events/files/define.ts';
export type { FileOutcome, FileWatcher } from './events/files/watcher.ts';
export {
  defineRule,
  type RuleDefinition,
  type RuleOptions,
  type RuleRetryOptions,
  type RuleTarget,
} from './events/rules-define.ts';
export type { WebhookScheme, WebhookSourceConfig } from './events/webhooks/verify.ts';
export {
  type CronObject,
  formatInTimeZone,
  MAX_EXPRESSION_LENGTH,
  parseSchedule,
  type Schedule,
  ScheduleError,
  type ScheduleErrorDetails,
  type ScheduleKind,
  type ScheduleOptions,
  type ScheduleSyntax,
} from './expressions/index.ts';
export { type ErrorRecord, NonRetryableError, RetryAfterError } from './functions/errors.ts';
export {
  type AcquireOptions,
  type Lease,
  Locks,
  type WithLockOptions,
  type WithLockResult,
} from './locks/locks.ts';
export {
  type Alert,
  type AlertDelivery,
  Alerter,
  type AlertSettings,
  type ResolvedAlertSettings,
  resolveAlertSettings,
} from './observability/alerts.ts';
export { Metrics, type MetricsOptions, type QueueGaugeRead } from './observability/metrics.ts';
export {
  type AnythingButOperand,
  type CompiledPattern,
  compilePattern,
  compileRules,
  type EventPattern,
  type EventRule,
  type IgnoreCaseOperand,
  PatternError,
  type PatternErrorDetails,
  type PatternOperator,
  type PatternValue,
  type RuleMatcher,
} from './patterns/index.ts';
export type { WorkerEventMap, WorkerEvents } from './queue/consumer-events.ts';
export {
  defineQueue,
  type QueueDefinition,
  type QueueOptions,
  type QueueSettings,
  type RetryOptions,
} from './queue/define.ts';
export type { DebounceOptions, ThrottleOptions } from './queue/gate-options.ts';
export {
  type BatchEntry,
  type MessageInfo,
  type QueueCountsInfo,
  type QueueInfo,
  type QueuePauseInfo,
  Queues,
  type SendOptions,
  type SendTransactionOptions,
  type SqlClient,
} from './queue/queues.ts';
export { type CommandOptions, defineCommand } from './runtime/define-command.ts';
export {
  type BatchResult,
  type CommandSettings,
  defineFunction,
  type FunctionContext,
  type FunctionDefinition,
  type FunctionOptions,
  type FunctionRetryOptions,
  fromQueue,
  type Handler,
  type QueueBatch,
  type QueueRecord,
  type QueueTrigger,
  type ResolvedRetry,
  type RunInfo,
  type ScheduleTrigger,
  type Trigger,
  type TriggerInfo,
} from './runtime/function.ts';
export {
  type InvokeOptions,
  type ListRunsOptions,
  type Run,
  type RunLogLine,
  Runs,
} from './runtime/runs.ts';
export { type StopOptions, Worker, type WorkerOptions } from './runtime/worker.ts';
export { type FiredRun, NEAR_CLOCK_MS, type RunDueOptions, type RunDueResult } from './scheduler/run-due.ts';
export { type Due, type Fired, Scheduler, type SchedulerOptions } from './scheduler/scheduler.ts';
export { type ListSchedulesOptions, type ScheduleInfo, Schedules } from './scheduler/schedules.ts';
export type {
  CreateScheduleInput,
  HttpMethod,
  MisfirePolicy,
  OverlapPolicy,
  ScheduleRetryOptions,
  ScheduleSettings,
  ScheduleTarget,
  UpdateScheduleInput,
} from './scheduler/spec.ts';
export {
  type ListTasksOptions,
  type TaskInfo,
  type TaskInput,
  Tasks,
  type TaskTransactionOptions,
} from './scheduler/tasks.ts';
export { schedule } from './scheduler/trigger.ts';
export { type OpenStoreOptions, openStore } from './store/open.ts';
export type { RunStatus, TriggerKind } from './store/run-row.ts';
export { fromPostgresJs, type PostgresJsTransaction } from './store/sql-client.ts';
export type { Backend, LockRow, LockStore, Store, StoreCapabilities } from './store/types.ts';
export type { ExecutionStatus } from './store/workflow-row.ts';
export {
  EXECUTION_STATUSES,
  type Execution,
  type ListExecutionsOptions,
  type Operation,
  type StartOptions,
  Workflows,
} from './workflow/client.ts';
export {
  type BatchItem,
  type BatchItemStatus,
  type BatchOptions,
  type BatchResult as WorkflowBatchResult,
  type Branch,
  type BusEventShape,
  type CallbackOptions,
  type CompletionConfig,
  type CompletionReason,
  defineWorkflow,
  type ExecutionInfo,
  type RetryStrategy,
  type StepContext,
  type StepOptions,
  StepSemantics,
  type WaitDecision,
  type WaitDuration,
  type WaitForCallbackOptions,
  type WaitForConditionOptions,
  type WorkflowContext,
  type WorkflowDefinition,
  type WorkflowOptions,
} from './workflow/define.ts';
export type { WorkflowEngine, WorkflowEngineOptions } from './workflow/engine.ts';
export { WorkflowOperationError } from './workflow/session.ts';
