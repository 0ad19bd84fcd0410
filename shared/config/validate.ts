import { ConfigError, ValidationError } from '../domain/errors.ts';
import * as z from './zod.ts';

function describe(error: z.core.$ZodError, label: string): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : label;
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

/** Parses configuration; a bad value becomes a ConfigError that names it. */
export function parseConfig<S extends z.core.$ZodType>(
  schema: S,
  input: unknown,
  label: string,
): z.output<S> {
  const result = z.safeParse(schema, input);
  if (!result.success) {
    throw new ConfigError(`invalid ${label}: ${describe(result.error, label)}`, { cause: result.error });
  }
  return result.data;
}

/** Parses input from outside (events, requests, files); a bad value becomes a ValidationError naming the field. */
export function parseInput<S extends z.core.$ZodType>(schema: S, input: unknown, label: string): z.output<S> {
  const result = z.safeParse(schema, input);
  if (!result.success) {
    throw new ValidationError(`invalid ${label}: ${describe(result.error, label)}`, { cause: result.error });
  }
  return result.data;
}
