import { DomUtils, parseDocument } from 'htmlparser2';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import {
  type ApprovalDeps,
  type ApprovalRequest,
  handleApprovalRequest,
} from '../../shared/app/approval/handle.ts';
import { batchLink, candidateLink, unsubscribeLink } from '../../shared/app/approval/links.ts';
import { dueDigests } from '../../shared/app/digest/dispatch.ts';
import { signApprovalToken } from '../../shared/domain/approval/token.ts';
import type { FollowTask } from '../../shared/domain/engine/task.ts';
import type { TaskStore } from '../../shared/ports/tasks.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { BASE_URL, type DigestWorld, startDigestWorld, TEST_KEY } from '../support/digest.ts';

const DAY = 86_400_000;
const CLIENT = 'sunrise';
const ACCOUNT = 'x-sunrise';

describe('approval links and the approval page', () => {
  const db = useDynamoBackend(dynaliteBackend);
  let world: DigestWorld;
  let deps: ApprovalDeps;
  let pending: string[];

  beforeEach(async () => {
    world = await startDigestWorld(db);
    deps = {
      store: world.store,
      uses: world.digests,
      clock: world.clock,
      keys: TEST_KEY,
      agencyName: 'Sunrise Social',
      baseUrl: BASE_URL,
    };
    pending = world.sample.pending[ACCOUNT] ?? [];
  });

  const ref = { clientId: CLIENT, accountId: ACCOUNT };
  const signer = () => ({ keys: TEST_KEY, baseUrl: BASE_URL, now: world.clock.now() });
  const get = (url: string, method = 'GET'): ApprovalRequest => {
    const u = new URL(url);
    return { method, path: u.pathname, query: u.search.slice(1), headers: { host: u.host } };
  };
  const tokenOf = (url: string) => new URL(url).searchParams.get('t') ?? '';
  const post = (path: string, form: Record<string, string | string[]>): ApprovalRequest => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const value of [v].flat()) body.append(k, value);
    return {
      method: 'POST',
      path,
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    };
  };
  const approve = (token: string, ids: string[], action = 'approve') =>
    post(`/approve/${CLIENT}`, { token, action, approve: ids });

  /** Every task of both sample accounts, the used tokens and the client record: what must not change. */
  async function snapshot(): Promise<unknown> {
    const tasks = [];
    for (const account of world.sample.accounts) {
      tasks.push(
        (await world.store.listTasks(account)).map((t) => [t.task.targetId, t.task.state, t.version]),
      );
    }
    return { tasks, client: await world.store.getClient(CLIENT) };
  }

  async function stateOf(targetId: string, store: TaskStore = world.store): Promise<FollowTask | undefined> {
    return (await store.getTask(ref, targetId))?.task;
  }

  function text(html: string): string {
    return DomUtils.textContent(parseDocument(html)).replace(/\s+/g, ' ');
  }

  it('shows the page on GET, with only the linked candidate, ticked, and changes nothing', async () => {
    // Prepare
    const link = candidateLink(signer(), ref, pending[2]!);
    const before = await snapshot();
    // Act
    const response = await handleApprovalRequest(deps, get(link));
    const head = await handleApprovalRequest(deps, get(link, 'HEAD'));
    // Assess
    expect(response.status).toBe(200);
    const doc = parseDocument(response.body);
    const boxes = DomUtils.findAll((e) => e.name === 'input' && e.attribs.name === 'approve', doc.children);
    expect(boxes.map((b) => b.attribs.value)).toEqual([pending[2]]);
    expect(boxes.filter((b) => 'checked' in b.attribs).map((b) => b.attribs.value)).toEqual([pending[2]]);
    const form = DomUtils.findOne((e) => e.name === 'form', doc.children);
    expect(form?.attribs.action).toBe(`${BASE_URL}/approve/${CLIENT}`);
    expect(response.headers['Content-Security-Policy']).toContain(
      "form-action 'self' https://approve.agency.example",
    );
    expect(response.headers['Cache-Control']).toBe('no-store');
    expect(response.headers['Referrer-Policy']).toBe('no-referrer');
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(await snapshot()).toEqual(before);
  });

  it('approves the ticked candidates on POST, once, through the engine', async () => {
    // Prepare
    const token = tokenOf(batchLink(signer(), ref, pending.slice(0, 2))!);
    world.clock.advance(3_600_000);
    // Act
    const response = await handleApprovalRequest(deps, approve(token, [pending[0]!, pending[1]!]));
    // Assess
    expect(response.status).toBe(200);
    expect(text(response.body)).toContain('Approved 2, skipped 0.');
    for (const id of pending.slice(0, 2)) {
      expect(await stateOf(id)).toMatchObject({ state: 'scheduled', approvedAt: world.clock.now() });
    }
    for (const id of pending.slice(2)) expect((await stateOf(id))?.state).toBe('pending_approval');
    expect(
      (
        await world.digests.getApprovalUse(
          CLIENT,
          JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).tokenId,
        )
      )?.use,
    ).toMatchObject({
      state: 'applied',
      action: 'approve',
      result: { approved: 2, skipped: 0, unchanged: 0 },
    });
  });

  it('skips the ticked candidates when the owner presses skip', async () => {
    // Prepare
    const token = tokenOf(batchLink(signer(), ref, pending)!);
    // Act
    const response = await handleApprovalRequest(deps, approve(token, [pending[3]!], 'skip'));
    // Assess
    expect(text(response.body)).toContain('Approved 0, skipped 1.');
    expect(await stateOf(pending[3]!)).toMatchObject({ state: 'skipped', skipReason: 'rejected_by_owner' });
  });

  it('refuses a used link, on GET and on POST, and changes nothing', async () => {
    // Prepare
    const link = candidateLink(signer(), ref, pending[0]!);
    await handleApprovalRequest(deps, approve(tokenOf(link), [pending[0]!]));
    const before = await snapshot();
    // Act
    const again = await handleApprovalRequest(deps, approve(tokenOf(link), [pending[1]!]));
    const page = await handleApprovalRequest(deps, get(link));
    // Assess
    for (const response of [again, page]) {
      expect(response.status).toBe(410);
      expect(text(response.body)).toContain('This link has already been used');
    }
    expect(await snapshot()).toEqual(before);
    expect((await stateOf(pending[1]!))?.state).toBe('pending_approval');
  });

  it('lets only one of two simultaneous POSTs of the same link act', async () => {
    // Prepare
    const token = tokenOf(batchLink(signer(), ref, pending)!);
    // Act
    const [a, b] = await Promise.all([
      handleApprovalRequest(deps, approve(token, [pending[0]!])),
      handleApprovalRequest(deps, approve(token, [pending[1]!], 'skip')),
    ]);
    // Assess
    expect([a.status, b.status].sort()).toEqual([200, 410]);
    const states = [(await stateOf(pending[0]!))?.state, (await stateOf(pending[1]!))?.state];
    expect(states.filter((s) => s !== 'pending_approval')).toHaveLength(1);
  });

  it('refuses an expired link and changes nothing', async () => {
    // Prepare
    const link = candidateLink(signer(), ref, pending[0]!);
    world.clock.advance(9 * DAY);
    const before = await snapshot();
    // Act
    const page = await handleApprovalRequest(deps, get(link));
    const posted = await handleApprovalRequest(deps, approve(tokenOf(link), [pending[0]!]));
    // Assess
    for (const response of [page, posted]) {
      expect(response.status).toBe(410);
      expect(text(response.body)).toContain('This link has expired');
    }
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ['a changed payload', (t: string) => `${flip(t.split('.')[0]!)}.${t.split('.')[1]}`],
    ['a changed signature', (t: string) => `${t.split('.')[0]}.${flip(t.split('.')[1]!)}`],
    ['no signature', (t: string) => t.split('.')[0]!],
    ['garbage', () => 'not-a-token'],
    ['another key’s signature', () => otherKeyToken()],
  ])('refuses a link with %s as not valid, and changes nothing', async (_name, spoil) => {
    // Prepare
    const token = spoil(tokenOf(candidateLink(signer(), ref, pending[0]!)));
    const before = await snapshot();
    // Act
    const page = await handleApprovalRequest(
      deps,
      get(`${BASE_URL}/approve/${CLIENT}?t=${encodeURIComponent(token)}`),
    );
    const posted = await handleApprovalRequest(deps, approve(token, [pending[0]!]));
    // Assess
    for (const response of [page, posted]) {
      expect(response.status).toBe(400);
      expect(text(response.body)).toContain('This link is not valid');
      expect(text(response.body)).not.toContain('Sunrise');
    }
    expect(await snapshot()).toEqual(before);
  });

  it("refuses another tenant's link presented at this tenant's address, and changes nothing in either", async () => {
    // Prepare: a second client with its own candidate
    await world.store.putClient({ ...world.sample.client, clientId: 'rival', name: 'Rival Bakery' });
    await world.store.putAccount({ ...world.sample.accounts[0]!, clientId: 'rival' });
    const rivalStore = world.store as DynamoStore;
    const candidate = (await rivalStore.getTask(ref, pending[0]!))!.task;
    await rivalStore.createTask({ clientId: 'rival', accountId: ACCOUNT }, candidate);
    const rivalLink = candidateLink(signer(), { clientId: 'rival', accountId: ACCOUNT }, pending[0]!);
    const before = await snapshot();
    // Act: the rival's token at sunrise's URL, and sunrise's token at the rival's URL
    const page = await handleApprovalRequest(
      deps,
      get(rivalLink.replace('/approve/rival', `/approve/${CLIENT}`)),
    );
    const posted = await handleApprovalRequest(deps, approve(tokenOf(rivalLink), [pending[0]!]));
    const reverse = await handleApprovalRequest(deps, {
      ...approve(tokenOf(candidateLink(signer(), ref, pending[0]!)), [pending[0]!]),
      path: '/approve/rival',
    });
    // Assess
    for (const response of [page, posted, reverse]) expect(response.status).toBe(400);
    expect(await snapshot()).toEqual(before);
    expect(
      (await rivalStore.getTask({ clientId: 'rival', accountId: ACCOUNT }, pending[0]!))?.task.state,
    ).toBe('pending_approval');
  });

  it('refuses a form that names someone who is not a candidate of the account, and keeps the link usable', async () => {
    // Prepare: a kitchen follower (another account of the same client) slipped into a batch link
    const kitchenTask = (await world.store.listTasks(world.sample.accounts[1]!))[0]!.task.targetId;
    const token = tokenOf(batchLink(signer(), ref, [pending[0]!, kitchenTask])!);
    const before = await snapshot();
    // Act
    const forged = await handleApprovalRequest(deps, approve(token, [pending[0]!, kitchenTask]));
    const unchanged = await snapshot();
    const honest = await handleApprovalRequest(deps, approve(token, [pending[0]!]));
    // Assess
    expect(forged.status).toBe(400);
    expect(text(forged.body)).toContain(`approve: ${kitchenTask} is not a candidate of this account`);
    expect(unchanged).toEqual(before);
    expect(honest.status).toBe(200);
    expect((await stateOf(pending[0]!))?.state).toBe('scheduled');
  });

  it('covers only the candidates that were waiting when the link was issued', async () => {
    // Prepare: someone new waits for approval after the digest went out, on a (forged) list
    const newcomer = {
      ...(await stateOf(pending[0]!))!,
      targetId: '1699999999999999999',
      detectedAt: world.clock.now() + 3_600_000,
    };
    const link = batchLink(signer(), ref, [pending[0]!, newcomer.targetId])!;
    await world.store.createTask(ref, newcomer);
    world.clock.advance(2 * 3_600_000);
    // Act
    const page = await handleApprovalRequest(deps, get(link));
    const posted = await handleApprovalRequest(deps, approve(tokenOf(link), [newcomer.targetId]));
    // Assess
    expect(page.body).not.toContain(newcomer.targetId);
    expect(posted.status).toBe(400);
    expect((await stateOf(newcomer.targetId))?.state).toBe('pending_approval');
  });

  it("approves only the linked person with a forwarded candidate link that POSTs everyone's id", async () => {
    // Prepare: the link for one person, and a form naming every waiting candidate
    const token = tokenOf(candidateLink(signer(), ref, pending[1]!));
    const before = await snapshot();
    // Act
    const forged = await handleApprovalRequest(deps, approve(token, pending));
    const unchanged = await snapshot();
    const honest = await handleApprovalRequest(deps, approve(token, [pending[1]!]));
    // Assess: the wide form changes nothing and leaves the link usable; the narrow one acts
    expect(forged.status).toBe(403);
    expect(text(forged.body)).toContain(`this link does not cover ${pending[0]}`);
    expect(unchanged).toEqual(before);
    expect(honest.status).toBe(200);
    expect(text(honest.body)).toContain('Approved 1, skipped 0.');
    expect((await stateOf(pending[1]!))?.state).toBe('scheduled');
    for (const id of pending.filter((id) => id !== pending[1])) {
      expect((await stateOf(id))?.state).toBe('pending_approval');
    }
  });

  it('acts only on its own batch with a batch link, shown and posted', async () => {
    // Prepare: a batch link for three of the candidates
    const batch = pending.slice(0, 3);
    const link = batchLink(signer(), ref, batch)!;
    const before = await snapshot();
    // Act
    const page = await handleApprovalRequest(deps, get(link));
    const wider = await handleApprovalRequest(deps, approve(tokenOf(link), [...batch, pending[4]!], 'skip'));
    const unchanged = await snapshot();
    // Assess
    const boxes = DomUtils.findAll(
      (e) => e.name === 'input' && e.attribs.name === 'approve',
      parseDocument(page.body).children,
    );
    expect(boxes.map((b) => b.attribs.value).sort()).toEqual([...batch].sort());
    expect(wider.status).toBe(403);
    expect(unchanged).toEqual(before);
  });

  it('refuses an approval token that lists nobody (a batch id only) for every id', async () => {
    // Prepare
    const { token } = signApprovalToken(
      {
        clientId: CLIENT,
        accountId: ACCOUNT,
        scope: 'batch',
        batchId: 'unknown-batch',
        issuedAt: world.clock.now(),
        expiresAt: world.clock.now() + DAY,
      },
      TEST_KEY,
    );
    const before = await snapshot();
    // Act
    const posted = await handleApprovalRequest(deps, approve(token, [pending[0]!]));
    // Assess
    expect(posted.status).toBe(403);
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ['no token', { action: 'approve', approve: ['x'] }, 'token: exactly one token is required'],
    ['no action', { token: 'a.b', approve: ['x'] }, 'action: action must be approve or skip'],
    [
      'an unknown action',
      { token: 'a.b', action: 'follow', approve: ['x'] },
      'action: action must be approve or skip',
    ],
  ])('refuses a form with %s, naming the field', async (_name, form, message) => {
    // Prepare
    const before = await snapshot();
    // Act
    const response = await handleApprovalRequest(deps, post(`/approve/${CLIENT}`, form));
    // Assess
    expect(response.status).toBe(400);
    expect(text(response.body)).toContain(message);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses an empty selection and a body that is not a form, changing nothing', async () => {
    // Prepare
    const token = tokenOf(candidateLink(signer(), ref, pending[0]!));
    const before = await snapshot();
    // Act
    const empty = await handleApprovalRequest(deps, approve(token, []));
    const json = await handleApprovalRequest(deps, {
      ...approve(token, [pending[0]!]),
      headers: { 'content-type': 'application/json' },
    });
    // Assess
    expect(empty.status).toBe(400);
    expect(text(empty.body)).toContain('approve: tick at least one person');
    expect(json.status).toBe(415);
    expect(await snapshot()).toEqual(before);
  });

  it('finishes a decision interrupted between using the link and changing the tasks', async () => {
    // Prepare: the first POST dies after the token is consumed, at the first task write
    const token = tokenOf(batchLink(signer(), ref, pending)!);
    let failures = 1;
    const dying = new Proxy(world.store, {
      get(target, name, receiver) {
        if (name === 'putTask') {
          return async (...args: Parameters<DynamoStore['putTask']>) => {
            if (failures-- > 0) throw new Error('process killed');
            return target.putTask(...args);
          };
        }
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const crashed = await handleApprovalRequest(
      { ...deps, store: dying },
      approve(token, [pending[0]!, pending[1]!]),
    );
    expect(crashed.status).toBe(500);
    expect((await stateOf(pending[0]!))?.state).toBe('pending_approval');
    // Act: the owner presses the button again
    const retried = await handleApprovalRequest(deps, approve(token, [pending[0]!, pending[1]!]));
    // Assess: the recorded decision is carried out, once, and the link is used
    expect(retried.status).toBe(410);
    expect((await stateOf(pending[0]!))?.state).toBe('scheduled');
    expect((await stateOf(pending[1]!))?.state).toBe('scheduled');
    expect((await world.store.getTask(ref, pending[0]!))?.version).toBe(2); // created, then approved: once
  });

  it('unsubscribes on the one-click POST only; the GET asks first and changes nothing', async () => {
    // Prepare
    const link = unsubscribeLink(signer(), CLIENT);
    const u = new URL(link);
    // Act
    const page = await handleApprovalRequest(deps, get(link));
    const afterGet = await world.store.getClient(CLIENT);
    const noOneClick = await handleApprovalRequest(deps, {
      method: 'POST',
      path: u.pathname,
      query: u.search.slice(1),
      body: 'List-Unsubscribe=Yes',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const oneClick = await handleApprovalRequest(deps, {
      method: 'POST',
      path: u.pathname,
      query: u.search.slice(1),
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const again = await handleApprovalRequest(deps, {
      method: 'POST',
      path: u.pathname,
      body: `token=${encodeURIComponent(tokenOf(link))}&List-Unsubscribe=One-Click`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    // Assess
    expect(page.status).toBe(200);
    expect(text(page.body)).toContain('Unsubscribe from the digest?');
    expect(afterGet?.digestOptOut).toBeUndefined();
    expect(noOneClick.status).toBe(400);
    expect(text(noOneClick.body)).toContain('List-Unsubscribe: must be One-Click');
    expect(oneClick.status).toBe(200);
    expect(again.status).toBe(200);
    expect(await world.store.getClient(CLIENT)).toMatchObject({
      digestOptOut: true,
      digestOptOutAt: world.clock.now(),
      name: 'Sunrise Bakery',
      digestEmails: ['owner@sunrise-bakery.example'],
    });
    expect(await dueDigests({ store: world.store, runs: world.digests }, world.clock.now())).toEqual([]);
  });

  it('does not accept an approval link for unsubscribing, nor an unsubscribe link for approving', async () => {
    // Prepare
    const approval = tokenOf(candidateLink(signer(), ref, pending[0]!));
    const unsubscribe = tokenOf(unsubscribeLink(signer(), CLIENT));
    const before = await snapshot();
    // Act
    const a = await handleApprovalRequest(deps, {
      method: 'POST',
      path: `/unsubscribe/${CLIENT}`,
      body: `token=${approval}&List-Unsubscribe=One-Click`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const b = await handleApprovalRequest(deps, approve(unsubscribe, [pending[0]!]));
    // Assess
    expect([a.status, b.status]).toEqual([400, 400]);
    expect(await snapshot()).toEqual(before);
  });

  it('answers unknown addresses with 404 and other methods with 405', async () => {
    // Act
    const unknown = await handleApprovalRequest(deps, { method: 'GET', path: '/admin' });
    const nested = await handleApprovalRequest(deps, { method: 'GET', path: `/approve/${CLIENT}/extra` });
    const badId = await handleApprovalRequest(deps, { method: 'GET', path: '/approve/%E0%A4%A' });
    const put = await handleApprovalRequest(deps, { method: 'PUT', path: `/approve/${CLIENT}` });
    const health = await handleApprovalRequest(deps, { method: 'GET', path: '/healthz' });
    // Assess
    expect([unknown.status, nested.status, badId.status]).toEqual([404, 404, 404]);
    expect(put).toMatchObject({ status: 405, headers: { Allow: 'GET, HEAD, POST' } });
    expect(health).toMatchObject({ status: 200, body: 'ok\n' });
  });

  it('refuses a request that is not a request, naming the field', async () => {
    // Act
    const response = await handleApprovalRequest(deps, {
      method: 'GET',
      path: `/approve/${CLIENT}`,
      body: 'x'.repeat(300 * 1024),
    } as ApprovalRequest);
    // Assess
    expect(response.status).toBe(400);
    expect(text(response.body)).toContain('body:');
  });
});

function flip(part: string): string {
  const i = Math.floor(part.length / 2);
  const c = part[i] === 'A' ? 'B' : 'A';
  return part.slice(0, i) + c + part.slice(i + 1);
}

function otherKeyToken(): string {
  return signApprovalToken(
    {
      clientId: CLIENT,
      accountId: ACCOUNT,
      scope: 'batch',
      targetIds: ['1'],
      issuedAt: Date.UTC(2026, 2, 9),
      expiresAt: Date.UTC(2026, 2, 20),
    },
    'another-key-another-key-another-key-0000',
  ).token;
}
