import { CommanderError } from 'commander';
import { loadLogLevel } from '../shared/config/env.ts';
import { reportOf } from './errors.ts';
import { printJson, warn } from './output.ts';
import { buildProgram } from './program.ts';

/**
 * Exit codes: 0 done; 1 the command failed, its command line is wrong, or it did nothing it was
 * asked to (the message says why). With --json, a failure is a JSON object on stdout,
 * `{"error": {"name", "message", "hint"?}}`, with the same exit code.
 */
async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const program = buildProgram({ quietErrors: json });
  try {
    // Every command logs through LOG_LEVEL: a bad value stops here, naming it, whatever the command.
    loadLogLevel();
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      if (json && error.exitCode !== 0) {
        printJson({
          error: { name: 'UsageError', code: error.code, message: error.message.replace(/^error: /, '') },
        });
      }
      return;
    }
    const report = reportOf(error);
    process.exitCode = 1;
    if (json) {
      printJson({ error: report });
      return;
    }
    warn(`followback: ${report.name}: ${report.message}\n${report.hint ? `  ${report.hint}\n` : ''}`);
  }
}

await main(process.argv);
