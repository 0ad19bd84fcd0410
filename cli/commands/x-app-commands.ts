import type { Command } from 'commander';
import { ValidationError } from '../../shared/domain/errors.ts';
import { say } from '../output.ts';
import { promptHidden } from './connect-commands.ts';

/**
 * `followback x-app secret --client <id>`: seals the client secret of a client's own X app (named
 * by `xApp` in clients.yaml) with the vault, as tokens are. The secret comes from standard input
 * (`--secret-stdin`, its first line) or a prompt that does not echo; never an argument, an
 * environment variable or the YAML, and it is never printed or logged.
 */
export function register(program: Command): void {
  const xApp = program.command('x-app').description("a client's own X developer app");
  xApp
    .command('secret')
    .description("seal the client secret of a client's own (confidential) X app")
    .requiredOption('--client <id>', 'the client whose app it is')
    .option('--secret-stdin', 'read the secret from standard input', false)
    .option('--local', 'use the local store of `npm start` instead of the deployed table', false)
    .option('--dir <path>', 'where the local state is kept (with --local)', '.followback')
    .action(async (options: { client: string; secretStdin: boolean; local: boolean; dir: string }) => {
      const secret = await readSecret(options.secretStdin);
      const [{ openContext }, { setXAppSecret }] = await Promise.all([
        import('../context.ts'),
        import('../../shared/app/connect/x-apps.ts'),
      ]);
      const context = await openContext(options);
      try {
        await setXAppSecret(
          { registry: context.store, credentials: await context.credentials() },
          options.client,
          secret,
        );
        say(`sealed the X app secret of client ${options.client}\n`);
      } finally {
        await context.close();
      }
    });
}

async function readSecret(fromStdin: boolean): Promise<string> {
  if (fromStdin) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const secret = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0]?.trim() ?? '';
    if (secret === '') throw new ValidationError('x-app secret: standard input held no secret');
    return secret;
  }
  if (!process.stdin.isTTY) {
    throw new ValidationError(
      'x-app secret: the secret is asked on a terminal; in a script, use --secret-stdin',
    );
  }
  return promptHidden('X app client secret: ');
}
