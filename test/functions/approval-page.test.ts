import { randomBytes } from 'node:crypto';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { DomUtils, parseDocument } from 'htmlparser2';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ApprovalPageDeps, serveApprovalRequest } from '../../functions/handlers/approval-page.ts';
import { withObservability } from '../../functions/lib/middleware.ts';
import { createObservability } from '../../functions/lib/observability.ts';
import { cachedSecret } from '../../functions/lib/secrets.ts';
import { DynamoDigestStore } from '../../shared/adapters/dynamo/digest-store.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { parseApprovalKeys } from '../../shared/app/approval/keys.ts';
import { batchLink, candidateLink, unsubscribeLink } from '../../shared/app/approval/links.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { type DigestWorld, startDigestWorld } from '../support/digest.ts';
import {
  captureOutput,
  type DynamoCall,
  expectWithinGrants,
  jsonLines,
  lambdaContext,
  recordingDynamoClient,
} from './support.ts';

const CLIENT = 'sunrise';
const ACCOUNT = 'x-sunrise';
const HOST = 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws';
const FUNCTION_URL = `https://${HOST}`;
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:approval-AbC123';
const SIGNING_KEY = randomBytes(32).toString('base64');

const db = useDynamoBackend(dynaliteBackend);
let world: DigestWorld;
let pending: string[];
let calls: DynamoCall[];
const ref = { clientId: CLIENT, accountId: ACCOUNT };

beforeEach(async () => {
  world = await startDigestWorld(db);
  pending = world.sample.pending[ACCOUNT] ?? [];
});

function pageDeps(overrides: Partial<ApprovalPageDeps> = {}): ApprovalPageDeps {
  const recording = recordingDynamoClient(db.endpoint);
  calls = recording.calls;
  const observability = createObservability({ service: 'approval-page', stage: 'test', level: 'info' });
  return {
    store: new DynamoStore({ client: recording.client, tableName: world.tableName, clock: world.clock }),
    uses: new DynamoDigestStore({ client: recording.client, tableName: world.tableName }),
    clock: world.clock,
    keys: cachedSecret(async () => SIGNING_KEY, SECRET_ARN, parseApprovalKeys),
    agencyName: 'Sunrise Social',
    logger: observability.logger,
    ...overrides,
  };
}

/** A Function URL event (payload 2.0) as Lambda delivers it. */
function event(
  method: string,
  url: string,
  options: { body?: string; base64?: boolean; headers?: Record<string, string> } = {},
): LambdaFunctionURLEvent {
  const u = new URL(url);
  const body =
    options.body === undefined
      ? undefined
      : options.base64
        ? Buffer.from(options.body, 'utf8').toString('base64')
        : options.body;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: u.pathname,
    rawQueryString: u.search.slice(1),
    headers: { host: HOST, 'user-agent': 'test', ...options.headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: HOST.split('.')[0]!,
      domainName: HOST,
      domainPrefix: HOST.split('.')[0]!,
      http: { method, path: u.pathname, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '09/Mar/2026:08:30:00 +0000',
      timeEpoch: world.clock.now(),
    },
    isBase64Encoded: options.base64 ?? false,
    ...(body === undefined ? {} : { body }),
  };
}

function approvalForm(token: string, ids: string[]): string {
  const form = new URLSearchParams({ token, action: 'approve' });
  for (const id of ids) form.append('approve', id);
  return form.toString();
}

const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };

type FunctionUrlResponse = {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded?: boolean;
};

/** The handler as deployed (middy, Powertools). */
async function invoke(request: LambdaFunctionURLEvent, deps = pageDeps()) {
  const observability = createObservability({ service: 'approval-page', stage: 'test', level: 'info' });
  const handler = withObservability(observability, (e: LambdaFunctionURLEvent) =>
    serveApprovalRequest(e, { ...deps, logger: observability.logger }),
  );
  return captureOutput(
    async () => (await handler(request, lambdaContext('approval-page'))) as FunctionUrlResponse,
  );
}

/** Every task of both sample accounts with its version: what must not change. */
async function tasksNow(): Promise<unknown> {
  const tasks = [];
  for (const account of world.sample.accounts) {
    tasks.push((await world.store.listTasks(account)).map((t) => [t.task.targetId, t.task.state, t.version]));
  }
  return tasks;
}

function link(targetId: string): string {
  return candidateLink(
    { keys: parseApprovalKeys(SIGNING_KEY), baseUrl: FUNCTION_URL, now: world.clock.now() },
    ref,
    targetId,
  );
}

const tokenOf = (url: string) => new URL(url).searchParams.get('t') ?? '';

async function stateOf(targetId: string): Promise<string | undefined> {
  return (await world.store.getTask(ref, targetId))?.task.state;
}

describe('approval page behind a Function URL', () => {
  it('renders the page on GET, posting back to the Function URL, and changes nothing', async () => {
    // Prepare
    const before = await tasksNow();

    // Act
    const { result } = await invoke(event('GET', link(pending[0]!)));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(false);
    expect(result.headers['Content-Type']).toMatch(/^text\/html/);
    const doc = parseDocument(result.body);
    const form = DomUtils.findOne((e) => e.name === 'form', doc.children);
    expect(form?.attribs.action).toBe(`${FUNCTION_URL}/approve/${CLIENT}`);
    const ticked = DomUtils.findAll(
      (e) => e.name === 'input' && e.attribs.name === 'approve' && 'checked' in e.attribs,
      doc.children,
    );
    expect(ticked.map((box) => box.attribs.value)).toEqual([pending[0]]);
    expect(await tasksNow()).toEqual(before);
    expectWithinGrants(calls, 'approval-page');
  });

  it('approves the ticked candidates on POST of the form', async () => {
    // Prepare: the digest's batch link for the first two
    const token = tokenOf(
      batchLink(
        { keys: parseApprovalKeys(SIGNING_KEY), baseUrl: FUNCTION_URL, now: world.clock.now() },
        ref,
        pending.slice(0, 2),
      )!,
    );

    // Act
    const { result } = await invoke(
      event('POST', `${FUNCTION_URL}/approve/${CLIENT}`, {
        body: approvalForm(token, [pending[0]!, pending[1]!]),
        headers: formHeaders,
      }),
    );

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.body).toContain('Approved 2, skipped 0.');
    expect(await stateOf(pending[0]!)).toBe('scheduled');
    expect(await stateOf(pending[1]!)).toBe('scheduled');
    expect(await stateOf(pending[2]!)).toBe('pending_approval');
    expectWithinGrants(calls, 'approval-page');
  });

  it('unsubscribes with the one-click POST within its role (the registry flag only)', async () => {
    // Prepare
    const url = unsubscribeLink(
      { keys: parseApprovalKeys(SIGNING_KEY), baseUrl: FUNCTION_URL, now: world.clock.now() },
      CLIENT,
    );

    // Act
    const { result } = await invoke(
      event('POST', url, { body: 'List-Unsubscribe=One-Click', headers: formHeaders }),
    );

    // Assess
    expect(result.statusCode).toBe(200);
    expect((await world.store.getClient(CLIENT))?.digestOptOut).toBe(true);
    expect(calls.some((call) => call.action === 'UpdateItem' && call.partition === 'REGISTRY')).toBe(true);
    expectWithinGrants(calls, 'approval-page');
  });

  it('reads a base64-encoded body as Lambda passes it', async () => {
    // Prepare
    const token = tokenOf(link(pending[0]!));

    // Act
    const { result } = await invoke(
      event('POST', `${FUNCTION_URL}/approve/${CLIENT}`, {
        body: approvalForm(token, [pending[0]!]),
        base64: true,
        headers: formHeaders,
      }),
    );

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.body).toContain('Approved 1, skipped 0.');
    expect(await stateOf(pending[0]!)).toBe('scheduled');
  });

  it('refuses a tampered token with the refusal page, and changes nothing', async () => {
    // Prepare
    const [payload, signature] = tokenOf(link(pending[0]!)).split('.');
    const flipped = `${payload}.${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`;
    const before = await tasksNow();

    // Act
    const page = await invoke(
      event('GET', `${FUNCTION_URL}/approve/${CLIENT}?t=${encodeURIComponent(flipped)}`),
    );
    const posted = await invoke(
      event('POST', `${FUNCTION_URL}/approve/${CLIENT}`, {
        body: approvalForm(flipped, [pending[0]!]),
        headers: formHeaders,
      }),
    );

    // Assess
    for (const { result } of [page, posted]) {
      expect(result.statusCode).toBe(400);
      expect(result.body).toContain('This link is not valid');
    }
    expect(await tasksNow()).toEqual(before);
  });

  it('answers 503 and changes nothing when the signing key cannot be read, and reads it again next time', async () => {
    // Prepare
    let reads = 0;
    const deps = pageDeps({
      keys: cachedSecret(
        async () => {
          reads += 1;
          if (reads === 1) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
          return SIGNING_KEY;
        },
        SECRET_ARN,
        parseApprovalKeys,
      ),
    });
    const token = tokenOf(link(pending[0]!));
    const post = event('POST', `${FUNCTION_URL}/approve/${CLIENT}`, {
      body: approvalForm(token, [pending[0]!]),
      headers: formHeaders,
    });

    // Act
    const unavailable = await invoke(post, deps);
    const stateAfterFailure = await stateOf(pending[0]!);
    const retried = await invoke(post, deps);

    // Assess
    expect(unavailable.result).toMatchObject({ statusCode: 503, headers: { 'Retry-After': '60' } });
    expect(jsonLines(unavailable.lines)).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'approval signing keys unavailable; answering 503',
        error: expect.objectContaining({ name: 'SecretUnavailableError' }),
      }),
    );
    expect(stateAfterFailure).toBe('pending_approval');
    expect(retried.result.statusCode).toBe(200);
    expect(await stateOf(pending[0]!)).toBe('scheduled');
  });
});
