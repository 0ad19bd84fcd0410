import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddyfiedHandler } from '@middy/core';
import type { Context } from 'aws-lambda';
import { type Observability, summarizeError } from './observability.ts';

/**
 * Middleware first, handler last: Lambda context keys on every log line, metrics flushed after each
 * invocation that recorded any (no cold-start metric: each custom metric costs $0.30 a month, and
 * the logger's `cold_start` key and Lambda's own init duration say it), and the one shared error
 * mapping: an error that escapes
 * the handler is logged once with its name, message and cause (never a secret: the logger redacts)
 * and rethrown, so Lambda counts it and the trigger retries.
 */
export function withObservability<E, R>(
  observability: Observability,
  handler: (event: E, context: Context) => Promise<R>,
): MiddyfiedHandler<E, R, Error, Context> {
  return middy<E, R, Error, Context>()
    .use(injectLambdaContext(observability.powertools, { resetKeys: true }))
    .use({
      after: async () => flushMetrics(observability),
      onError: async () => flushMetrics(observability),
    })
    .use({
      onError: async (request) => {
        observability.powertools.error('invocation failed', { error: summarizeError(request.error) });
      },
    })
    .handler(handler);
}

/** Publishes the invocation's metrics, if it recorded any (an empty flush only logs a warning). */
function flushMetrics(observability: Observability): void {
  if (observability.metrics.hasStoredMetrics()) observability.metrics.publishStoredMetrics();
}
