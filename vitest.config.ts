import { defineConfig } from 'vitest/config';

// Three tiers, each a vitest project: `npm test` runs them all, `npm test -- --project unit`
// only the tests that need no database, process or browser (seconds, for the edit loop).
const UNIT = [
  'test/architecture.test.ts',
  'test/core/**/*.test.ts',
  'test/expressions/**/*.test.ts',
  'test/import/{terraform,yaml,aws-json,amplify,crontab}.test.ts',
  'test/patterns/**/*.test.ts',
  'test/cli/table.test.ts',
  'test/observability/metrics.test.ts',
  'test/runtime/{define-function,secrets}.test.ts',
  'test/scheduler/ticks.test.ts',
  'test/workflow/replay.test.ts',
];
// Real processes, the built CLI, a browser: what a user runs.
const E2E = ['test/e2e/**/*.test.ts', 'test/examples/**/*.test.ts', 'test/dashboard/**/*.test.ts'];

export default defineConfig({
  resolve: { conditions: ['mainspring-source'] },
  ssr: { resolve: { conditions: ['mainspring-source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two test files at a time, whatever the machine: vitest's default (CPUs − 1) runs them one by
    // one on 2 cores, where most tests wait on child processes, servers and PostgreSQL rather
    // than compute; a slow day of this machine took the CI suite to 22 minutes that way.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...UNIT, ...E2E],
          // The served-files and change-stream API tests load the dashboard's bundle.
          globalSetup: ['test/dashboard/build-assets.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: E2E,
          globalSetup: ['test/dashboard/build-assets.ts'],
          // Real processes beside another test file: a test that takes 20 s alone took over 30.
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
