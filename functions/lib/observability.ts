import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { LogFields, Logger } from '../../shared/ports/logger.ts';

/** Keys whose values are never written, whatever the caller passes (as in the JSON logger). */
const secretKey = /token|secret|password|authorization|signature|key$/i;
/** Keys that end in "Key" but name no secret: a digest period's key is its first day's date. */
const notSecret: ReadonlySet<string> = new Set(['periodKey', 'nextPeriodKey']);

/**
 * Powertools' JSON replacer hook, applied to every key at every depth: secret-looking keys lose their
 * value, and an Error becomes its summary (name, message, details, causes). Powertools would
 * otherwise write every enumerable property of an error, such as an HTTP client's request with its
 * Authorization header.
 */
export function redactSecrets(key: string, value: unknown): unknown {
  if (key !== '' && secretKey.test(key) && !notSecret.has(key) && value !== undefined) return '[redacted]';
  if (value instanceof Error) return summarizeError(value);
  return value;
}

export interface ErrorSummary {
  name: string;
  message: string;
  details?: unknown;
  cause?: ErrorSummary | string;
}

/** Name, message, the `details` of followback's errors, and the chain of causes (four deep). */
export function summarizeError(error: unknown, depth = 0): ErrorSummary {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error) };
  const summary: ErrorSummary = { name: error.name, message: error.message };
  const details = (error as { details?: unknown }).details;
  if (typeof details === 'object' && details !== null && Object.keys(details).length > 0)
    summary.details = details;
  if (error.cause !== undefined && depth < 4) {
    summary.cause =
      error.cause instanceof Error ? summarizeError(error.cause, depth + 1) : String(error.cause);
  }
  return summary;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Observability {
  /** The Powertools logger (Lambda context keys, cold start), for middleware. */
  powertools: PowertoolsLogger;
  /** The same logger behind the Logger port the use cases take. */
  logger: Logger;
  metrics: Metrics;
}

export interface ObservabilityOptions {
  service: string;
  stage: string;
  level: LogLevel;
  namespace?: string;
}

/** Logger (JSON, redacting) and metrics (EMF, dimensions service and stage) of one function. */
export function createObservability(options: ObservabilityOptions): Observability {
  const powertools = new PowertoolsLogger({
    serviceName: options.service,
    logLevel: options.level.toUpperCase() as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR',
    persistentKeys: { stage: options.stage },
    jsonReplacerFn: redactSecrets,
  });
  const metrics = new Metrics({
    namespace: options.namespace ?? 'Followback',
    serviceName: options.service,
    defaultDimensions: { stage: options.stage },
  });
  return { powertools, logger: new PowertoolsLoggerPort(powertools), metrics };
}

/** The Logger port on a Powertools logger; `child` adds persistent keys (clientId, accountId, …). */
export class PowertoolsLoggerPort implements Logger {
  constructor(readonly inner: PowertoolsLogger) {}

  debug(message: string, fields?: LogFields): void {
    if (fields === undefined) this.inner.debug(message);
    else this.inner.debug(message, fields);
  }
  info(message: string, fields?: LogFields): void {
    if (fields === undefined) this.inner.info(message);
    else this.inner.info(message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    if (fields === undefined) this.inner.warn(message);
    else this.inner.warn(message, fields);
  }
  error(message: string, fields?: LogFields): void {
    if (fields === undefined) this.inner.error(message);
    else this.inner.error(message, fields);
  }

  child(fields: LogFields): Logger {
    const child = this.inner.createChild();
    child.appendPersistentKeys(fields);
    return new PowertoolsLoggerPort(child);
  }
}
