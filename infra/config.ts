import * as z from 'zod';
import { APP_DAILY_CAP_DEFAULTS, PLATFORM_FOLLOW_LIMITS } from '../shared/config/policy.ts';
import { parseConfig } from '../shared/config/validate.ts';
import { X_TOKEN_URL_DEFAULT } from '../shared/config/x-oauth.ts';

/**
 * The deploy configuration: one typed object, validated once at the app entry (infra/app.ts).
 * Stages are modelled here with their defaults; `-c stage=prod` picks one and `-c config='{…}'`
 * (JSON, or an object in cdk.json's context) overrides fields of it. Nothing below the app entry
 * reads process.env or context: constructs receive this object.
 */

export const stageNames = ['dev', 'prod'] as const;
export type StageName = (typeof stageNames)[number];

/** The retention periods CloudWatch Logs accepts, in days. */
export const logRetentionDays = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const domainName = z
  .string()
  .regex(
    /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    'must be a lower-case domain name such as mail.example.com',
  );

export const deployConfigSchema = z
  .strictObject({
    stage: z.enum(stageNames),
    /** Target account; absent: environment-agnostic templates (the account is resolved at deploy time). */
    account: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    region: z.string().regex(/^[a-z]{2}(?:-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1'),
    /** The SES identity mail is sent from (verified outside this app: DKIM needs DNS records). */
    senderDomain: domainName,
    senderAddress: z.email(),
    agencyName: z.string().trim().min(1).max(100),
    /** Receives the alarms and the agency roll-up. */
    operatorEmail: z.email(),
    /** Minutes between account ticks (EventBridge Scheduler rate). */
    tickMinutes: z.int().min(5).max(60),
    /** X API base URL the workers call. */
    xApiBaseUrl: z.url({ protocol: /^https$/ }),
    /**
     * The X app's OAuth 2.0 Client ID (developer console, Keys and tokens): the account worker
     * refreshes tokens with it. Required for prod; dev has a placeholder so synth works offline.
     */
    xClientId: z
      .string({
        error: 'is required: the OAuth 2.0 Client ID of the X app (developer console, Keys and tokens)',
      })
      .trim()
      .min(1)
      .max(200),
    /** X's OAuth 2.0 token endpoint (or an X-compatible one). */
    xTokenUrl: z.url({ protocol: /^https$/ }),
    /**
     * A confidential X app's client secret, as the complete ARN of a Secrets Manager secret created
     * outside this app (its SecretString is the secret; encrypted with the AWS managed key). Only the
     * account worker may read it. Absent: the app is a public client (PKCE, no secret). The secret
     * itself never goes into the config, a template or an environment variable.
     */
    xClientSecretArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(?:-gov)?-[a-z]+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/,
        'must be the complete ARN of a Secrets Manager secret (with its 6-character suffix)',
      )
      .optional(),
    worker: z.strictObject({
      /** Account worker timeout; the queue's visibility timeout is six times this. */
      timeoutSeconds: z.int().min(30).max(900),
      memoryMb: z.int().min(128).max(10_240),
      /** Messages per worker invocation, processed side by side. */
      batchSize: z.int().min(1).max(10),
      /** Receives before a message goes to the dead-letter queue. */
      maxReceiveCount: z.int().min(1).max(20),
      /** Held back from the Lambda's remaining time for committing and releasing the lease. */
      timeMarginMs: z.int().min(1_000).max(120_000),
    }),
    caps: z.strictObject({
      /** Most account workers running at once (SQS event source maximum concurrency, 2–1000). */
      workerMaxConcurrency: z.int().min(2).max(1_000),
      /** Most digest workers running at once. */
      digestMaxConcurrency: z.int().min(2).max(1_000),
      /**
       * Reserved concurrency of the public approval function: a flood of requests on its Function
       * URL is throttled there (429) instead of taking the account's concurrency from the workers.
       */
      approvalPageConcurrency: z.int().min(1).max(100),
      /** Follows per day on X across all accounts of the deployment (X caps an app at 1,000). */
      xAppFollowsPerDay: z
        .int()
        .min(1)
        .max(PLATFORM_FOLLOW_LIMITS.x.appPerDay ?? 1_000),
    }),
    logRetentionDays: z.union(logRetentionDays.map((days) => z.literal(days))),
    /** X-Ray active tracing on the functions. */
    tracing: z.boolean(),
    /** Keep the table, key and secret when the stack is deleted, and refuse to delete the table. */
    protectData: z.boolean(),
  })
  .superRefine((config, ctx) => {
    const domain = config.senderAddress.split('@')[1]?.toLowerCase();
    if (domain !== config.senderDomain && !domain?.endsWith(`.${config.senderDomain}`)) {
      ctx.addIssue({
        code: 'custom',
        path: ['senderAddress'],
        message: `must be an address of the sender domain ${config.senderDomain}`,
      });
    }
  });

export type DeployConfig = z.infer<typeof deployConfigSchema>;

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** The stages' defaults: prod has no X client id of its own (it must be given). */
export type StageDefaults = Omit<DeployConfig, 'xClientId'> & { xClientId?: string };

/** Dev's X client id: a placeholder so `npm run synth` works offline; token refreshes fail with it. */
export const DEV_X_CLIENT_ID_PLACEHOLDER = 'followback-dev-x-client-id-placeholder';

const shared = {
  xApiBaseUrl: 'https://api.x.com',
  xTokenUrl: X_TOKEN_URL_DEFAULT,
  // 512 MB: a tick mostly waits on the network (billed by memory × time), and a 1M-id snapshot's
  // diff peaks under 300 MB (`npm run bench -- observe`). Raise it for accounts past a million.
  worker: { timeoutSeconds: 120, memoryMb: 512, batchSize: 4, maxReceiveCount: 3, timeMarginMs: 10_000 },
} satisfies DeepPartial<StageDefaults>;

/**
 * The stages and their defaults. `example.com` names are placeholders to override per agency; prod
 * needs `xClientId` (`-c config='{"xClientId":"…"}'`).
 */
export const stages: Record<StageName, StageDefaults> = {
  dev: {
    ...shared,
    stage: 'dev',
    xClientId: DEV_X_CLIENT_ID_PLACEHOLDER,
    region: 'us-east-1',
    senderDomain: 'dev.followback.example.com',
    senderAddress: 'digest@dev.followback.example.com',
    agencyName: 'Followback (dev)',
    operatorEmail: 'operator@followback.example.com',
    tickMinutes: 15,
    caps: {
      workerMaxConcurrency: 5,
      digestMaxConcurrency: 2,
      approvalPageConcurrency: 2,
      xAppFollowsPerDay: 200,
    },
    logRetentionDays: 14,
    tracing: false,
    protectData: true,
  },
  prod: {
    ...shared,
    stage: 'prod',
    region: 'eu-west-1',
    senderDomain: 'followback.example.com',
    senderAddress: 'digest@followback.example.com',
    agencyName: 'Followback',
    operatorEmail: 'operator@followback.example.com',
    tickMinutes: 15,
    caps: {
      workerMaxConcurrency: 20,
      digestMaxConcurrency: 5,
      approvalPageConcurrency: 10,
      xAppFollowsPerDay: APP_DAILY_CAP_DEFAULTS.x ?? 900,
    },
    logRetentionDays: 90,
    tracing: true,
    protectData: true,
  },
};

export interface DeployContext {
  /** `-c stage=…`; default dev. */
  stage?: unknown;
  /** `-c config='{…}'` (a JSON string) or an object from cdk.json: fields that override the stage's. */
  config?: unknown;
}

/**
 * The validated deploy config of a stage with overrides. Any bad value, unknown stage or unknown
 * field fails with a ConfigError that names it, e.g. `invalid deploy config (stage dev): tickMinutes: …`.
 */
export function resolveDeployConfig(context: DeployContext = {}): DeployConfig {
  const stage = parseConfig(
    z.enum(stageNames, { error: `must be one of ${stageNames.join(', ')}` }),
    context.stage ?? 'dev',
    'stage',
  );
  const overrides = parseConfig(
    z.record(z.string(), z.unknown()),
    typeof context.config === 'string' ? parseJson(context.config) : (context.config ?? {}),
    'config (an object of deploy config fields)',
  );
  const merged = merge(stages[stage], overrides);
  return parseConfig(deployConfigSchema, { ...merged, stage }, `deploy config (stage ${stage})`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Let the schema name it: a string is not an object.
    return text;
  }
}

/** Overrides merged into the defaults, nested objects field by field. */
function merge(base: object, overrides: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = out[key];
    out[key] =
      isPlainObject(current) && isPlainObject(value)
        ? merge(current, value as Record<string, unknown>)
        : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
