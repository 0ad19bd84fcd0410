import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { ITwitterApiClientPlugin } from 'twitter-api-v2';
import { ValidationError } from '../../domain/errors.ts';

/**
 * Where twitter-api-v2's requests go. The library always talks to https://api.x.com; these plugins
 * send its requests to X itself, the sandbox or any X-compatible endpoint, with an agent of the
 * URL's protocol (the library's own is https only).
 */

/** An agent for `protocol`, keeping connections alive. */
function agentFor(protocol: string): HttpAgent {
  return protocol === 'http:' ? new HttpAgent({ keepAlive: true }) : new HttpsAgent({ keepAlive: true });
}

/**
 * Sends each request to the configured base URL instead (protocol, host, port and an optional path
 * prefix): the API calls of the X platform adapter.
 */
export function baseUrlPlugin(base: URL): ITwitterApiClientPlugin {
  const agent = agentFor(base.protocol);
  const prefix = base.pathname.replace(/\/$/, '');
  return {
    onBeforeRequest({ computedParams, requestOptions }) {
      const url = computedParams.url;
      url.protocol = base.protocol;
      url.host = base.host;
      if (prefix && !url.pathname.startsWith(`${prefix}/`)) url.pathname = `${prefix}${url.pathname}`;
      requestOptions.agent = agent;
    },
  };
}

/**
 * Sends every request to one URL, form-encoded, within `timeoutMs`: the OAuth 2.0 token endpoint
 * (`X_TOKEN_URL`), whatever its path. Form-encoded because RFC 6749 says so and X's token endpoint
 * (and the sandbox's) takes nothing else: twitter-api-v2 1.29 would send JSON (its body-type
 * detection tests `url.password` for `/2/oauth2`, so never matches). A confidential client's secret
 * goes in the HTTP Basic header only: the library would repeat it in the body, and RFC 6749 2.3.1
 * allows one method per request.
 */
export function tokenEndpointPlugin(target: URL, timeoutMs: number): ITwitterApiClientPlugin {
  const agent = agentFor(target.protocol);
  return {
    onBeforeRequestConfig({ params }) {
      params.url = target.href;
      params.forceBodyMode = 'url';
      params.timeout = timeoutMs;
      const body = params.body as Record<string, unknown> | undefined;
      if (body !== undefined && typeof body === 'object') delete body.client_secret;
    },
    onBeforeRequest({ requestOptions }) {
      requestOptions.agent = agent;
    },
  };
}

/** `X_API_BASE_URL` (or any of X's URLs) as an http or https URL; anything else is a ValidationError. */
export function parseBaseUrl(raw: string, name = 'X_API_BASE_URL'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new ValidationError(`${name} is not a URL: ${JSON.stringify(raw)}`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(`${name} must be http or https, got ${url.protocol}`);
  }
  return url;
}
