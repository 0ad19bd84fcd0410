import { randomBytes } from 'node:crypto';
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  InvalidCiphertextException,
  KMSClient,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { motoAvailable, startMoto } from '../support/moto.ts';

/** A KMS to seal against, its key, and how to stop it. */
export interface KmsTarget {
  client: KMSClient;
  keyId: string;
  stop(): Promise<void>;
}

export interface KmsBackend {
  name: 'moto' | 'client-mock';
  start(): Promise<KmsTarget>;
}

/** moto server's KMS: it checks the encryption context on Decrypt (InvalidCiphertextException). */
export const motoKms: KmsBackend = {
  name: 'moto',
  async start() {
    const server = await startMoto();
    const client = new KMSClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const key = await client.send(new CreateKeyCommand({ Description: 'followback vault test' }));
    return {
      client,
      keyId: key.KeyMetadata!.KeyId!,
      stop: async () => {
        client.destroy();
        await server.stop();
      },
    };
  },
};

/**
 * Where python3 has no moto: an in-memory KMS behind aws-sdk-client-mock that, like KMS, refuses a
 * ciphertext whose encryption context or key differs from the one it was sealed with.
 */
export const mockKms: KmsBackend = {
  name: 'client-mock',
  async start() {
    const client = new KMSClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    });
    const mock = mockClient(client);
    const keyId = 'mock-key';
    const sealed = new Map<string, { plaintext: Uint8Array; context: string; keyId: string }>();
    mock.on(EncryptCommand).callsFake((input) => {
      const blob = randomBytes(48);
      sealed.set(blob.toString('hex'), {
        plaintext: Uint8Array.from(input.Plaintext),
        context: JSON.stringify(input.EncryptionContext ?? {}),
        keyId: input.KeyId,
      });
      return { CiphertextBlob: new Uint8Array(blob), KeyId: input.KeyId };
    });
    mock.on(DecryptCommand).callsFake((input) => {
      const entry = sealed.get(Buffer.from(input.CiphertextBlob).toString('hex'));
      if (
        entry === undefined ||
        entry.context !== JSON.stringify(input.EncryptionContext ?? {}) ||
        (input.KeyId !== undefined && input.KeyId !== entry.keyId)
      ) {
        throw new InvalidCiphertextException({ message: '', $metadata: {} });
      }
      return { Plaintext: entry.plaintext, KeyId: entry.keyId };
    });
    return {
      client,
      keyId,
      stop: async () => {
        mock.restore();
      },
    };
  },
};

/** moto where python3 has it (it enforces the context as KMS does), and always the mock. */
export const kmsBackends: KmsBackend[] = motoAvailable() ? [motoKms, mockKms] : [mockKms];
