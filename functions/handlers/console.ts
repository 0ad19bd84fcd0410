import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { handleWebRequest, type WebDeps } from '../../shared/adapters/web/console-handler.ts';
import type { Logger } from '../../shared/ports/logger.ts';

export interface ConsoleFunctionDeps {
  /** The handler's dependencies for the console's public address (`https://<Host>`). */
  web(baseUrl: string): Promise<WebDeps>;
  logger: Logger;
}

/**
 * One Function URL request to the console, the invite pages or the OAuth callback: the event
 * becomes a plain request (cookies from the event's `cookies`, a base64 body decoded), the answer a
 * Function URL result (Set-Cookie values in `cookies`). The public address is taken from the Host
 * header: the Function URL's own name. Never throws: what cannot be wired is a 503.
 */
export async function serveConsoleRequest(
  event: LambdaFunctionURLEvent,
  deps: ConsoleFunctionDeps,
): Promise<LambdaFunctionURLResult> {
  const host = event.headers.host ?? event.requestContext.domainName;
  let web: WebDeps;
  try {
    web = await deps.web(`https://${host}`);
  } catch (error) {
    deps.logger.error('console dependencies unavailable; answering 503', { error });
    return {
      statusCode: 503,
      headers: {
        'Content-Type': 'text/plain; charset=utf-8',
        'Cache-Control': 'no-store',
        'Retry-After': '60',
      },
      body: 'The console is unavailable for a moment. Please try again in a minute; nothing was changed.\n',
      isBase64Encoded: false,
    };
  }
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  const response = await handleWebRequest(web, {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: event.rawQueryString,
    body,
    headers: event.headers,
    cookies: event.cookies,
  });
  return {
    statusCode: response.status,
    headers: response.headers,
    body: response.body,
    ...(response.cookies === undefined || response.cookies.length === 0 ? {} : { cookies: response.cookies }),
    isBase64Encoded: false,
  };
}
