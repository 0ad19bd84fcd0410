import { CommanderError } from 'commander';
import { FollowbackError } from '../shared/domain/errors.ts';
import { warn } from './output.ts';
import { buildProgram } from './program.ts';

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof FollowbackError) {
      warn(`followback: ${error.name}: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

await main(process.argv);
