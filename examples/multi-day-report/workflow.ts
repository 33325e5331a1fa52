// The seven-day report of the Lambda Durable Functions "multi-day scheduled task"
// pattern as a mainspring workflow: collect data on day 1, process a batch on each of
// days 2–6 with a durable 24-hour wait before each, write the report and send the
// notification on day 7. The task's status lives in the execution's progress, which
// the REST API in api.ts reads back (where the Lambda version kept a DynamoDB table).

import { type Clock, defineWorkflow, RealClock, type WorkflowDefinition } from 'mainspringjs';

export const REPORT_WORKFLOW = 'multi-day-report';
export const TOTAL_DAYS = 7;

/** What a caller configures a task with (free-form JSON; these keys are the ones used here). */
export interface TaskConfig {
  readonly reportType?: string;
  readonly dataSource?: string;
  readonly notifyEmail?: string;
  readonly [key: string]: unknown;
}

export interface TaskInput {
  readonly config: TaskConfig;
}

export type TaskStatus =
  | 'INITIALIZED'
  | `DAY_${1 | 2 | 3 | 4 | 5 | 6}_COMPLETE`
  | 'REPORT_GENERATED'
  | 'NOTIFICATION_SENT'
  | 'COMPLETED'
  | 'FAILED';

export interface CollectionResult {
  readonly records: number;
  readonly sources: readonly string[];
}

export interface ProcessingResult {
  readonly recordsProcessed: number;
  readonly errors: number;
}

/** One finished piece of work, as `progress.steps[]` lists it. */
export interface StepRecord<R = unknown> {
  readonly day: number;
  readonly action: string;
  readonly result: R;
  readonly completedAt: string;
}

export interface DailyBreakdown {
  readonly day: number;
  readonly type: 'collection' | 'processing';
  readonly records: number;
  readonly errors?: number;
}

export interface FinalReport {
  readonly taskId: string;
  readonly reportType: string;
  readonly summary: {
    readonly totalDays: number;
    readonly totalRecordsProcessed: number;
    readonly totalErrors: number;
    readonly successRate: string;
  };
  readonly dailyBreakdown: readonly DailyBreakdown[];
  readonly generatedAt: string;
}

/** The value kept in the execution's progress: everything `GET /tasks/:taskId` shows of a task. */
export interface TaskProgress {
  readonly status: TaskStatus;
  readonly currentDay: number;
  readonly percentage: number;
  readonly completedDays: number;
  readonly totalDays: number;
  readonly steps: readonly StepRecord[];
  readonly finalReport?: FinalReport;
}

/** What the notification step hands to `notify`. */
export interface Notification {
  readonly taskId: string;
  readonly to: string | null;
  readonly subject: string;
  readonly report: FinalReport;
}

export interface ReportWorkflowOptions {
  /** The app's clock, so dates inside steps follow a scaled or fake clock; default the real one. */
  readonly clock?: Clock;
  /** Sends the day-7 notification; default: a log line. Throwing fails the step, which is retried. */
  readonly notify?: (notification: Notification) => Promise<void> | void;
}

const SOURCES = ['database', 'api', 'files'] as const;

/**
 * Builds the seven-day report workflow. Pass the same clock as the app's.
 *
 * @example
 * ```ts
 * const clock = clockFromEnv();
 * const report = createReportWorkflow({ clock });
 * const ms = await createMainspring({ clock, workflows: [report] });
 * await ms.workflows.start(report, { config: { reportType: 'weekly' } }, { id: 'TASK-1' });
 * ```
 */
export function createReportWorkflow(options: ReportWorkflowOptions = {}): WorkflowDefinition<TaskInput> {
  const clock = options.clock ?? new RealClock();
  // Called only inside steps: the journal keeps the date, so a replay shows the same one.
  const now = () => new Date(clock.now()).toISOString();

  return defineWorkflow({
    name: REPORT_WORKFLOW,
    handler: async (input: TaskInput, ctx) => {
      const taskId = ctx.execution.id;
      const config: TaskConfig = input?.config ?? {};
      // Rebuilt from journaled step results on every replay, so it is the same each time.
      const steps: StepRecord[] = [];
      const publish = (
        status: TaskStatus,
        currentDay: number,
        completedDays: number,
        extra: { finalReport?: FinalReport } = {},
      ) =>
        ctx.progress({
          status,
          currentDay,
          percentage: Math.round((completedDays / TOTAL_DAYS) * 100),
          completedDays,
          totalDays: TOTAL_DAYS,
          steps,
          ...extra,
        } satisfies TaskProgress);

      await publish('INITIALIZED', 1, 0);

      // Day 1: data collection.
      const collected = await ctx.step('collect-data', (): StepRecord<CollectionResult> => {
        const records = 5000 + Math.floor(Math.random() * 5000);
        return {
          day: 1,
          action: 'Data Collection',
          result: { records, sources: SOURCES },
          completedAt: now(),
        };
      });
      steps.push(collected);
      ctx.log.info({ taskId, records: collected.result.records }, 'day 1: data collected');
      await publish('DAY_1_COMPLETE', 1, 1);

      // Days 2–6: one batch a day, a durable wait before each (nothing runs meanwhile).
      const processed: StepRecord<ProcessingResult>[] = [];
      for (let day = 2; day <= 6; day++) {
        await ctx.wait({ hours: 24 });
        const batch = await ctx.step(`process-day-${day}`, (): StepRecord<ProcessingResult> => {
          const recordsProcessed = 1000 + Math.floor(Math.random() * 1000);
          const errors = Math.floor(Math.random() * 10);
          return {
            day,
            action: 'Batch Processing',
            result: { recordsProcessed, errors },
            completedAt: now(),
          };
        });
        steps.push(batch);
        processed.push(batch);
        ctx.log.info({ taskId, day, ...batch.result }, `day ${day}: batch processed`);
        await publish(`DAY_${day as 2 | 3 | 4 | 5 | 6}_COMPLETE`, day, day);
      }

      // Day 7: the report, the notification, the cleanup.
      await ctx.wait({ hours: 24 });
      const report = await ctx.step('generate-report', () =>
        buildReport(taskId, config, collected, processed, now()),
      );
      steps.push({
        day: 7,
        action: 'Report Generation',
        result: { summary: report.summary },
        completedAt: report.generatedAt,
      });
      await publish('REPORT_GENERATED', 7, 6, { finalReport: report });

      const sent = await ctx.step('send-notification', async (step) => {
        const notification: Notification = {
          taskId,
          to: typeof config.notifyEmail === 'string' ? config.notifyEmail : null,
          subject: `${report.reportType} report ${taskId} is ready`,
          report,
        };
        if (options.notify) await options.notify(notification);
        else step.log.info({ to: notification.to, subject: notification.subject }, 'notification sent');
        return {
          day: 7,
          action: 'Notification',
          result: { to: notification.to, subject: notification.subject },
          completedAt: now(),
        } satisfies StepRecord;
      });
      steps.push(sent);
      await publish('NOTIFICATION_SENT', 7, 6, { finalReport: report });

      // The Lambda version deletes its temporary data here; this one has none to delete.
      const cleaned = await ctx.step('cleanup', () => ({ completedAt: now() }));
      ctx.log.info({ taskId, at: cleaned.completedAt }, 'task completed');
      await publish('COMPLETED', 7, 7, { finalReport: report });
      return report;
    },
  });
}

/** The final report: a pure function of the journaled results, so it needs no randomness or clock. */
export function buildReport(
  taskId: string,
  config: TaskConfig,
  collected: StepRecord<CollectionResult>,
  processed: readonly StepRecord<ProcessingResult>[],
  generatedAt: string,
): FinalReport {
  const dailyBreakdown: DailyBreakdown[] = [
    { day: collected.day, type: 'collection', records: collected.result.records },
    ...processed.map((p) => ({
      day: p.day,
      type: 'processing' as const,
      records: p.result.recordsProcessed,
      errors: p.result.errors,
    })),
  ];
  const totalRecordsProcessed = dailyBreakdown.reduce((sum, d) => sum + d.records, 0);
  const totalErrors = dailyBreakdown.reduce((sum, d) => sum + (d.errors ?? 0), 0);
  const successRate =
    totalRecordsProcessed === 0 ? 100 : ((totalRecordsProcessed - totalErrors) / totalRecordsProcessed) * 100;
  return {
    taskId,
    reportType: typeof config.reportType === 'string' ? config.reportType : 'weekly',
    summary: {
      totalDays: TOTAL_DAYS,
      totalRecordsProcessed,
      totalErrors,
      successRate: `${successRate.toFixed(2)}%`,
    },
    dailyBreakdown,
    generatedAt,
  };
}
