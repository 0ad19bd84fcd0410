import { Command, InvalidArgumentError } from 'commander';

/** Parses a whole number option, naming the option when it is not one. */
export function wholeNumber(name: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
    }
    return parsed;
  };
}

export function buildProgram(): Command {
  const program = new Command()
    .name('followback')
    .description(
      'Late follow-backs, kept: observe followers, follow back at a human pace, email a weekly digest.',
    )
    .showHelpAfterError()
    .exitOverride();

  program
    .command('start')
    .description('run the main job locally on embedded defaults (dynalite, the X sandbox, a file outbox)')
    .option('--days <n>', 'simulated days to run', wholeNumber('--days', 1, 365), 7)
    .option('--reset', 'forget the persisted local state and start a new demo', false)
    .option(
      '--realtime',
      'tick on the wall clock (every --tick-seconds) instead of a fast virtual clock',
      false,
    )
    .option(
      '--tick-seconds <n>',
      'seconds between ticks in real-time mode',
      wholeNumber('--tick-seconds', 1, 3600),
      60,
    )
    .option('--dir <path>', 'where local state is kept', '.followback')
    .option('--json', 'print the summary as JSON', false)
    .action(async (options) => {
      const { startCommand } = await import('./commands/start.ts');
      await startCommand(options);
    });

  return program;
}
