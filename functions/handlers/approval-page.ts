import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { type ApprovalDeps, handleApprovalRequest } from '../../shared/app/approval/handle.ts';
import type { ApprovalKeys } from '../../shared/domain/approval/token.ts';
import type { Logger } from '../../shared/ports/logger.ts';

export interface ApprovalPageDeps extends Omit<ApprovalDeps, 'keys' | 'baseUrl' | 'logger'> {
  /** The approval links' signing keys (read from Secrets Manager once per container). */
  keys: () => Promise<ApprovalKeys>;
  logger: Logger;
}

/**
 * One Function URL request: the page on GET (never a change: mail scanners fetch links), the
 * decision on POST, as `handleApprovalRequest` rules. The form's address is taken from the Host
 * header (`https://<host>`: the Function URL's own name, or a CloudFront alias in front of it). A
 * body Lambda passes base64-encoded is decoded first. Never throws: a signing key that cannot be
 * read is a 503 page (logged), anything else the use case answers itself.
 */
export async function serveApprovalRequest(
  event: LambdaFunctionURLEvent,
  deps: ApprovalPageDeps,
): Promise<LambdaFunctionURLResult> {
  let keys: ApprovalKeys;
  try {
    keys = await deps.keys();
  } catch (error) {
    deps.logger.error('approval signing keys unavailable; answering 503', { error });
    return {
      statusCode: 503,
      headers: {
        'Content-Type': 'text/plain; charset=utf-8',
        'Cache-Control': 'no-store',
        'Retry-After': '60',
      },
      body: 'The approval page is unavailable for a moment. Please try again in a minute; nothing was changed.\n',
      isBase64Encoded: false,
    };
  }
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  const { keys: _keys, ...rest } = deps;
  const response = await handleApprovalRequest(
    { ...rest, keys },
    {
      method: event.requestContext.http.method,
      path: event.rawPath,
      query: event.rawQueryString,
      body,
      headers: event.headers,
    },
  );
  return {
    statusCode: response.status,
    headers: response.headers,
    body: response.body,
    isBase64Encoded: false,
  };
}
