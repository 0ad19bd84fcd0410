import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DomUtils, parseDocument } from 'htmlparser2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mimeComposer } from '../../shared/adapters/mime/mime-composer.ts';
import { OutboxMailer } from '../../shared/adapters/outbox/outbox-mailer.ts';
import { previewDigests } from '../../shared/app/digest/preview.ts';
import { type ApprovalServer, startApprovalServer } from '../../shared/runtime/approval-server.ts';
import {
  type HeadlessChromium,
  launchChromium,
  screenshotFile,
  wholePage,
} from '../../shared/runtime/chromium.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { type DigestWorld, startDigestWorld, TEST_AGENCY, TEST_KEY } from '../support/digest.ts';

const ARTIFACTS = resolve('test-artifacts');
const ACCOUNT = { clientId: 'sunrise', accountId: 'x-sunrise' };

describe('the approval page in headless Chromium', () => {
  const db = useDynamoBackend(dynaliteBackend);
  let world: DigestWorld;
  let server: ApprovalServer;
  let chromium: HeadlessChromium | undefined;

  beforeAll(async () => {
    world = await startDigestWorld(db);
    server = await startApprovalServer({
      store: world.store,
      uses: world.digests,
      clock: world.clock,
      keys: TEST_KEY,
      agencyName: TEST_AGENCY.name,
      port: 0,
    });
    chromium = await launchChromium();
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  it('opens from the approve-all link in the digest, approves the two left ticked, and leaves the rest waiting', async () => {
    if (chromium === undefined) throw new Error('Chromium did not start');
    // Prepare: the digest, with links to this server, and its approve-all link taken from its HTML
    const [preview] = await previewDigests({
      store: world.store,
      samples: world.digests,
      clock: world.clock,
      keys: TEST_KEY,
      baseUrl: server.url,
      outbox: new OutboxMailer({ dir: world.outboxDir }),
      composer: mimeComposer,
    });
    const html = await readFile(preview!.html, 'utf8');
    const links = DomUtils.findAll(
      (e) => e.name === 'a' && e.attribs['data-link'] === 'approve-all',
      parseDocument(html).children,
    ).map((a) => a.attribs.href ?? '');
    const link = links[0]!;
    expect(link.startsWith(`${server.url}/approve/sunrise?t=`)).toBe(true);
    await screenshotFile(chromium, preview!.html, resolve(ARTIFACTS, 'digest.png'));
    const waiting = (await world.store.listAwaitingApproval(ACCOUNT)).map((t) => t.task.targetId);
    const versions = async () =>
      Object.fromEntries(
        (await world.store.listTasks(ACCOUNT)).map((t) => [t.task.targetId, `${t.task.state}@${t.version}`]),
      );
    const before = await versions();

    // Act: open the link (a GET), keep two ticked, untick the rest, approve
    const page = await chromium.context.newPage();
    try {
      await page.goto(link);
      const boxes = page.locator('input[name="approve"]');
      const values = await boxes.evaluateAll((inputs) => inputs.map((i) => (i as { value: string }).value));
      const linked = await page
        .locator('input[name="approve"]:checked')
        .evaluateAll((inputs) => inputs.map((i) => (i as { value: string }).value));
      const afterGet = await versions();
      const chosen = linked.slice(0, 2);
      for (const value of values) {
        await page.locator(`input[name="approve"][value="${value}"]`).setChecked(chosen.includes(value));
      }
      await wholePage(page, resolve(ARTIFACTS, 'approval-page.png'));
      await Promise.all([
        page.waitForURL(`${server.url}/approve/sunrise`),
        page.click('button[data-action="approve"]'),
      ]);
      const result = await page.locator('[data-result]').getAttribute('data-approved');
      await wholePage(page, resolve(ARTIFACTS, 'approval-result.png'));

      // Assess
      expect(values.sort()).toEqual([...waiting].sort());
      expect(linked.sort()).toEqual([...waiting].sort());
      expect(afterGet).toEqual(before);
      expect(result).toBe('2');
      for (const id of chosen) {
        expect((await world.store.getTask(ACCOUNT, id))?.task).toMatchObject({
          state: 'scheduled',
          approvedAt: world.clock.now(),
        });
      }
      for (const id of waiting.filter((w) => !chosen.includes(w))) {
        expect((await world.store.getTask(ACCOUNT, id))?.task.state).toBe('pending_approval');
      }
    } finally {
      await page.close();
    }
  });
});
