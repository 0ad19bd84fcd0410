import type { Command } from 'commander';

/** Registers the `digest` commands on the program (filled in by their issue's work). */
export function register(_program: Command): void {}
