// The body of the `mainspring` command, loaded by main.ts once the Node.js version is
// known to be new enough: parse argv, run the command, and turn any mainspring error into
// one clear line on stderr and a non-zero exit code. A reader that closes stdout early
// (`| head`) ends the command quietly.

import { isMainspringError } from '../core/errors.ts';
import { exitCodeFor } from './exit.ts';
import { buildProgram, usageError } from './program.ts';

// `mainspring logs … | head`: once the reader has closed the pipe, nobody wants the rest.
// Stop quietly with status 0 instead of dying on an unhandled EPIPE with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = await buildProgram(process.argv);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  const usage = usageError(program, err, process.argv);
  if (usage !== null) {
    if (usage.line !== null) process.stderr.write(`mainspring: ${usage.line}\n`);
    process.exitCode = usage.exitCode;
  } else {
    if (isMainspringError(err)) {
      process.stderr.write(`mainspring: ${err.message} [${err.code}]\n`);
    } else {
      process.stderr.write(
        `mainspring: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    }
    process.exitCode = exitCodeFor(err);
  }
}
