import type * as z from 'zod';
import { ConfigError, ValidationError } from '../domain/errors.ts';

function describe(error: z.ZodError, label: string): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : label;
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

/** Parses configuration; a bad value becomes a ConfigError that names it. */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, label: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(`invalid ${label}: ${describe(result.error, label)}`, { cause: result.error });
  }
  return result.data;
}

/** Parses input from outside (events, requests, files); a bad value becomes a ValidationError naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, label: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ValidationError(`invalid ${label}: ${describe(result.error, label)}`, { cause: result.error });
  }
  return result.data;
}
