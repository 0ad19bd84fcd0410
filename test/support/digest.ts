import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoDigestStore } from '../../shared/adapters/dynamo/digest-store.ts';
import { StoreError } from '../../shared/adapters/dynamo/errors.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { mimeComposer } from '../../shared/adapters/mime/mime-composer.ts';
import { OutboxMailer } from '../../shared/adapters/outbox/outbox-mailer.ts';
import type { AgencyInfo } from '../../shared/app/digest/build.ts';
import type { DigestSendDeps } from '../../shared/app/digest/send.ts';
import type {
  DigestRun,
  DigestRunKey,
  DigestRunStore,
  StoredDigestRun,
} from '../../shared/ports/digest-store.ts';
import type { DeliveryCheck, Mailer, OutgoingMail, SentMail } from '../../shared/ports/mailer.ts';
import { type DigestSample, SAMPLE_NOW, seedDigestSample } from '../../shared/runtime/digest-sample.ts';
import { createTestTable } from './backends.ts';
import type { DynamoTarget } from './dynalite.ts';

/** A test signing key (never a real one). */
export const TEST_KEY = 'test-approval-key-0123456789-abcdefghijklmnop';
export const BASE_URL = 'https://approve.agency.example';

export const TEST_AGENCY: AgencyInfo = {
  name: 'Sunrise Social',
  senderAddress: 'digest@agency.example',
  operatorEmails: ['ops@agency.example'],
  timeZone: 'Europe/Berlin',
};

export interface DigestWorld {
  clock: VirtualClock;
  store: DynamoStore;
  digests: DynamoDigestStore;
  sample: DigestSample;
  outboxDir: string;
  tableName: string;
}

/** The sample client (two X accounts, candidates, follow-backs, skips…) on a fresh table of `target`. */
export async function startDigestWorld(target: DynamoTarget, now = SAMPLE_NOW): Promise<DigestWorld> {
  const tableName = await createTestTable(target);
  const clock = new VirtualClock(now);
  const store = new DynamoStore({ client: target.client, tableName, clock });
  const digests = new DynamoDigestStore({ client: target.client, tableName });
  const sample = await seedDigestSample({ store, samples: digests });
  const outboxDir = await mkdtemp(join(tmpdir(), 'followback-outbox-'));
  return { clock, store, digests, sample, outboxDir, tableName };
}

/** Send deps over a world, with a mailer of the test's choice. */
export function sendDeps(
  world: DigestWorld,
  mailer: Mailer,
  extra: Partial<DigestSendDeps> = {},
): DigestSendDeps {
  return {
    store: world.store,
    samples: world.digests,
    runs: world.digests,
    mailer,
    composer: mimeComposer,
    clock: world.clock,
    agency: TEST_AGENCY,
    keys: TEST_KEY,
    baseUrl: BASE_URL,
    ...extra,
  };
}

/** Counts what goes through a mailer. */
export class CountingMailer implements Mailer {
  sent: OutgoingMail[] = [];
  checks = 0;
  constructor(private readonly inner: Mailer) {}
  async send(mail: OutgoingMail): Promise<SentMail> {
    const result = await this.inner.send(mail);
    this.sent.push(mail);
    return result;
  }
  async check(mail: Pick<OutgoingMail, 'key' | 'messageId'>): Promise<DeliveryCheck> {
    this.checks += 1;
    return this.inner.check(mail);
  }
}

/** A mailer like SES: takes every message, and cannot be asked afterwards. */
export class BlindMailer implements Mailer {
  sent: OutgoingMail[] = [];
  async send(mail: OutgoingMail): Promise<SentMail> {
    this.sent.push(mail);
    return { messageId: mail.messageId, providerId: `blind-${this.sent.length}` };
  }
  async check(): Promise<DeliveryCheck> {
    return 'unknown';
  }
}

export function outboxMailer(world: DigestWorld): CountingMailer {
  return new CountingMailer(new OutboxMailer({ dir: world.outboxDir }));
}

/**
 * A run store that dies once at a chosen write, the way a process dies: the write before it is
 * durable, nothing after it happens. `when` sees the run about to be written.
 */
export class CrashingRuns implements DigestRunStore {
  crashed = false;
  constructor(
    private readonly inner: DigestRunStore,
    private readonly when: (run: DigestRun) => 'before' | 'after' | undefined,
  ) {}
  getRun(key: DigestRunKey): Promise<StoredDigestRun | undefined> {
    return this.inner.getRun(key);
  }
  async putRun(key: DigestRunKey, run: DigestRun, expectedVersion: number): Promise<number> {
    const moment = this.crashed ? undefined : this.when(run);
    if (moment === 'before') {
      this.crashed = true;
      throw new StoreError('simulated crash before the write');
    }
    const version = await this.inner.putRun(key, run, expectedVersion);
    if (moment === 'after') {
      this.crashed = true;
      throw new StoreError('simulated crash after the write');
    }
    return version;
  }
}
