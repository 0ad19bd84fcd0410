import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSRecord } from 'aws-lambda';
import { expect, vi } from 'vitest';
import type { LambdaFunctionName } from '../../infra/bundling.ts';
import { tableGrants } from '../../infra/table-grants.ts';
import { createDynamoClient } from '../../shared/adapters/dynamo/client.ts';

/**
 * Lines written to stdout and stderr while `fn` runs: Powertools writes its JSON logs there (warnings
 * and errors on stderr) and its EMF metrics on stdout.
 */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  try {
    const result = await fn();
    return {
      result,
      lines: chunks
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== ''),
    };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/** The JSON objects among captured lines. */
export function jsonLines(lines: readonly string[]): Record<string, unknown>[] {
  return lines.flatMap((line) => {
    try {
      const value = JSON.parse(line) as unknown;
      return typeof value === 'object' && value !== null ? [value as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

/** A Lambda context with `remainingMs` left when the invocation starts. */
export function lambdaContext(functionName: string, remainingMs = 60_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: `req-${Math.random().toString(36).slice(2, 10)}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** One DynamoDB call: the operation (`GetItem`, `Query`, …), the index a query read, the partition. */
export interface DynamoCall {
  action: string;
  index?: string | undefined;
  /** The partition key value (the table's `pk`, or the index's partition key for an index query). */
  partition?: string | undefined;
}

interface RecordedInput {
  IndexName?: string;
  Key?: Record<string, { S?: string }>;
  Item?: Record<string, { S?: string }>;
  KeyConditionExpression?: string;
  ExpressionAttributeValues?: Record<string, { S?: string }>;
}

/** The partition a call touches: from its key or item, or from a query's `<pk> = :value`. */
function partitionOf(input: RecordedInput): string | undefined {
  const direct = input.Key?.pk?.S ?? input.Item?.pk?.S;
  if (direct !== undefined) return direct;
  const match = /\b(?:pk|gsi1pk|gsi2pk)\s*=\s*(:\w+)/.exec(input.KeyConditionExpression ?? '');
  return match === null ? undefined : input.ExpressionAttributeValues?.[match[1]!]?.S;
}

/**
 * A DynamoDB client for `endpoint` (dynalite) that records every call it makes: the table actions a
 * function really uses, to hold against its role's grants.
 */
export function recordingDynamoClient(endpoint: string): { client: DynamoDBClient; calls: DynamoCall[] } {
  const client = createDynamoClient({ endpoint, region: 'us-east-1' });
  const calls: DynamoCall[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as RecordedInput;
      calls.push({
        action: (context.commandName ?? 'unknown').replace(/Command$/, ''),
        index: input.IndexName,
        partition: partitionOf(input),
      });
      return next(args);
    },
    { step: 'initialize', name: 'recordDynamoCalls' },
  );
  return { client, calls };
}

/** Asserts that every recorded call is one the function's role allows (infra/table-grants.ts). */
export function expectWithinGrants(calls: readonly DynamoCall[], fn: LambdaFunctionName): void {
  const grant = tableGrants[fn];
  expect(calls.length).toBeGreaterThan(0);
  const used = [
    ...new Set(calls.map((call) => (call.index ? `${call.action} on ${call.index}` : call.action))),
  ];
  const allowed = [...grant.actions, ...grant.indexes.map((index) => `Query on ${index}`)] as string[];
  expect(used.filter((call) => !allowed.includes(call))).toEqual([]);
  const partitions = grant.partitions;
  if (partitions === undefined) return;
  // The role's dynamodb:LeadingKeys conditions, held against every partition really touched.
  const like = (patterns: readonly string[], pk: string | undefined) =>
    pk !== undefined &&
    patterns.some((p) =>
      new RegExp(`^${p.replace(/[.+?^${}()|[\]\\#]/g, '\\$&').replace(/\*/g, '.*')}$`).test(pk),
    );
  const outside = calls.filter((call) => {
    if (call.index !== undefined) return !like(partitions.indexRead, call.partition);
    if (call.action === 'GetItem' || call.action === 'Query') return !like(partitions.read, call.partition);
    if (call.action === 'UpdateItem' && call.partition === partitions.registryUpdate?.partition) return false;
    return !like(partitions.write, call.partition);
  });
  expect(outside).toEqual([]);
}

/** An SQS record carrying `body` (JSON-encoded unless a string), as the event source delivers it. */
export function sqsRecord(messageId: string, body: unknown, queue = 'work'): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'dispatcher',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${queue}`,
    awsRegion: 'us-east-1',
  };
}
