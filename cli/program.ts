import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { register as registerConnect } from './commands/connect-commands.ts';
import { register as registerConsole } from './commands/console-commands.ts';
import { register as registerDigest } from './commands/digest-commands.ts';
import { register as registerTenants } from './commands/tenants-commands.ts';
import { register as registerXApp } from './commands/x-app-commands.ts';

/** The version in package.json (the checkout's own). */
function packageVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version?: string }).version ?? 'unknown';
}

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

/** The options of a command that works on a store: `--local` (with `--dir`) or the deployed table, and `--json`. */
export function where(command: Command, json = 'print JSON for scripts'): Command {
  return command
    .option('--local', 'use the local store of `npm start` instead of the deployed table', false)
    .option('--dir <path>', 'where the local state is kept (with --local)', '.followback')
    .option('--json', json, false);
}

export function buildProgram(options: { quietErrors?: boolean } = {}): Command {
  const program = new Command()
    .name('followback')
    .description(
      'Late follow-backs, kept: observe followers, follow back at a human pace, email a weekly digest.',
    )
    .version(packageVersion(), '-V, --version', 'print the version of followback')
    .exitOverride();
  // With --json the error goes out as JSON (cli/main.ts), not as commander's text and help.
  if (options.quietErrors)
    program.configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  else program.showHelpAfterError();

  program
    .command('start')
    .description(
      'run the main job locally on embedded defaults (dynalite, the X, Bluesky and Mastodon sandboxes, a file outbox)',
    )
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

  where(
    program
      .command('status')
      .description(
        'per account: followers, tasks by state, approvals, next actions, promise kept %, forecast',
      )
      .option('--client <id>', 'only this client')
      .option('--account <id>', 'only this account (with --client)'),
  ).action(async (options) => {
    const { statusCommand } = await import('./commands/engine.ts');
    await statusCommand(options);
  });

  where(
    program
      .command('approve')
      .description(
        'list follow-back candidates (of one account, or of every account of a client), or approve / skip them (one, several, or all)',
      )
      .requiredOption('--client <id>', 'the client')
      .option('--account <id>', 'the account (needed to approve or skip)')
      .option('--approve <ids>', 'comma-separated user ids or @handles to follow back, or "all"')
      .option('--skip <ids>', 'comma-separated user ids or @handles not to follow back'),
  ).action(async (options) => {
    const { approveCommand } = await import('./commands/engine.ts');
    await approveCommand(options);
  });

  for (const [name, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    where(
      program
        .command(name)
        .description(paused ? 'stop all work on an account' : 'restart work on a paused account')
        .requiredOption('--client <id>', 'the client')
        .requiredOption('--account <id>', 'the account'),
    ).action(async (options) => {
      const { setPausedCommand } = await import('./commands/engine.ts');
      await setPausedCommand(options, paused);
    });
  }

  registerTenants(program);
  registerConnect(program);
  registerXApp(program);
  registerConsole(program);
  registerDigest(program);
  return program;
}
