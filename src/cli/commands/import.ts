// `mainspring import <files or folders…>`: an AWS setup (Terraform, Serverless or Stacktape
// YAML, Amplify Gen 2, AWS CLI JSON, crontabs) as a mainspring.config.ts, and a report of
// what became of every item. Reads files only; never calls AWS, never runs the user's code.

import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { MainspringError } from '../../core/errors.ts';

interface ImportFlags {
  readonly out: string;
  readonly dryRun?: boolean;
  readonly force?: boolean;
  readonly json?: boolean;
}

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description(
      'write a mainspring.config.ts from Terraform (.tf), Serverless or Stacktape YAML, Amplify Gen 2 resource.ts/backend.ts, AWS CLI JSON (events describe-rule, list-targets-by-rule, scheduler get-schedule) or crontab files, and report what became of every item',
    )
    .argument('<paths...>', 'files, or folders to search for them')
    .option('-o, --out <file>', 'the config to write', 'mainspring.config.ts')
    .option('--dry-run', 'print the config and the report; write nothing')
    .option('--force', 'replace the output file if it exists')
    .option('--json', 'print { config, report, files } as JSON (with --dry-run nothing is written either)')
    .action(async (paths: string[], flags: ImportFlags) => {
      const [{ readSources }, { renderConfig }, { formatReport, sortReport }] = await Promise.all([
        import('../../import/read.ts'),
        import('../../import/write-config.ts'),
        import('../../import/report.ts'),
      ]);
      const writing = !flags.dryRun;
      // Refused before reading anything: the answer does not depend on the input.
      if (writing && !flags.force && existsSync(flags.out))
        throw new MainspringError(
          'E_IMPORT_OUTPUT_EXISTS',
          `${flags.out} exists; pass --force to replace it, --out to write elsewhere, or --dry-run to print instead`,
          { details: { field: 'out', value: flags.out } },
        );
      const { plan, files } = await readSources(paths);
      const config = renderConfig(plan, { outFile: flags.out, sources: files });
      if (writing) writeWhole(flags.out, config);
      if (flags.json) {
        const report = sortReport(plan.report);
        process.stdout.write(
          `${JSON.stringify({ config, report, files, written: writing ? flags.out : null })}\n`,
        );
        return;
      }
      const report = formatReport(plan.report, files);
      if (writing) process.stdout.write(`wrote ${flags.out}\n${report}`);
      else {
        // The config alone on stdout, so `--dry-run > file` keeps it; the report beside it.
        process.stdout.write(config);
        process.stderr.write(report);
      }
    });
}

/** Writes `text` to `file` whole or not at all: a crash midway leaves no half-written config. */
function writeWhole(file: string, text: string): void {
  const tmp = join(dirname(file), `.${process.pid}.mainspring-import.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}
