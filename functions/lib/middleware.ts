import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddyfiedHandler } from '@middy/core';
import type { Context } from 'aws-lambda';
import { type Observability, summarizeError } from './observability.ts';

/**
 * Middleware first, handler last: Lambda context keys on every log line, metrics flushed after each
 * invocation (with the cold-start metric), and the one shared error mapping: an error that escapes
 * the handler is logged once with its name, message and cause (never a secret: the logger redacts)
 * and rethrown, so Lambda counts it and the trigger retries.
 */
export function withObservability<E, R>(
  observability: Observability,
  handler: (event: E, context: Context) => Promise<R>,
): MiddyfiedHandler<E, R, Error, Context> {
  return middy<E, R, Error, Context>()
    .use(injectLambdaContext(observability.powertools, { resetKeys: true }))
    .use(logMetrics(observability.metrics, { captureColdStartMetric: true }))
    .use({
      onError: async (request) => {
        observability.powertools.error('invocation failed', { error: summarizeError(request.error) });
      },
    })
    .handler(handler);
}
