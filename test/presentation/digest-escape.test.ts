/**
 * A stranger's text reaches the digest and the roll-up in many places (name, handle, bio, in every
 * list; the branding's display name; the agency's name; a reason): in each it shows as text, never
 * as an element or an attribute, because the renderers write their markup with the escape-by-default
 * `html` template. And no renderer escapes by hand any more, so none can forget to.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDigestModel, buildRollup } from '../../shared/domain/digest/index.ts';
import { renderDigestHtml, renderRollupHtml } from '../../shared/presentation/digest/index.ts';
import {
  blueskyAccount,
  DAY,
  dangerousBits,
  digestInput,
  htmlElements,
  htmlText,
  mastodonAccount,
  PERIOD_END,
  PERIOD_START,
  user,
  xAccount,
} from '../domain/digest-fixtures.ts';

const HOSTILE = '<img src=x onerror=alert(1)>';

/** A stranger who put the payload in every field a profile has. */
function stranger(id: string) {
  return user(id, HOSTILE, 12, {
    name: HOSTILE,
    bio: HOSTILE,
    avatarUrl: `https://cdn.example/${HOSTILE}`,
  });
}

function hostileDigestHtml(): string {
  const input = digestInput();
  const x = xAccount();
  x.handle = HOSTILE;
  x.newFollowers = [{ user: stranger('1'), at: PERIOD_START + DAY }];
  x.awaitingApproval = [
    {
      user: stranger('2'),
      at: PERIOD_START + DAY,
      spamSignals: ['new_account'],
      approveUrl: 'https://a.example/a?t=1',
    },
  ];
  x.lost = [{ user: stranger('3'), at: PERIOD_START + 2 * DAY }];
  x.oneSided = [{ user: stranger('4'), since: PERIOD_START - 3 * DAY }];
  x.oneSidedTotal = 1;
  const bluesky = blueskyAccount();
  bluesky.atRisk = { count: 2, earliestDueBy: PERIOD_END, reason: HOSTILE };
  return renderDigestHtml(
    buildDigestModel({
      ...input,
      // The branding's display name is what the digest shows as the client's name.
      client: { ...input.client, name: HOSTILE, logoUrl: 'https://cdn.example/logo.png' },
      agency: { ...input.agency, name: HOSTILE },
      accounts: [x, bluesky, mastodonAccount()],
    }),
  );
}

describe('stranger text in the digest', () => {
  it('shows a hostile name, handle, bio, display name and agency name as text in every place, never as markup', () => {
    // Act
    const html = hostileDigestHtml();

    // Assess: no element or handler came from the payload; the only images are the logo and avatars
    expect(html).not.toContain(HOSTILE);
    expect(dangerousBits(html)).toEqual([]);
    const images = htmlElements(html).filter((e) => e.name === 'img');
    expect(images.every((img) => img.attribs.src?.startsWith('https://cdn.example/'))).toBe(true);
    expect(images.map((img) => Object.keys(img.attribs).filter((k) => k.startsWith('on')))).toEqual(
      images.map(() => []),
    );
    // ... and the payload reads as text: the header, the footer, names, handles, bios, the reason
    const text = htmlText(html);
    const shown = text.split(HOSTILE).length - 1;
    expect(shown).toBeGreaterThanOrEqual(4 * 3 + 4);
    expect(text).toContain(`Sent by ${HOSTILE} for ${HOSTILE}.`);
    // In attributes (the logo's and the avatars' alt text) it is escaped, whole
    expect(images.map((img) => img.attribs.alt)).toContain(HOSTILE);
  });

  it('shows hostile client and agency names in the roll-up as text', () => {
    // Prepare
    const digest = (id: string) => {
      const input = digestInput([xAccount()]);
      return buildDigestModel({ ...input, client: { id, name: HOSTILE, timeZone: 'Europe/Paris' } });
    };
    const rollup = buildRollup({
      agency: { name: HOSTILE, senderAddress: 'digest@sunrise.example', timeZone: 'Europe/Paris' },
      period: { start: PERIOD_START, end: PERIOD_END },
      digests: [digest('c1'), digest('c2')],
    });

    // Act
    const html = renderRollupHtml(rollup);

    // Assess
    expect(html).not.toContain(HOSTILE);
    expect(dangerousBits(html)).toEqual([]);
    expect(htmlElements(html).some((e) => e.name === 'img')).toBe(false);
    expect(htmlText(html).split(HOSTILE).length - 1).toBeGreaterThanOrEqual(3);
  });
});

const PRESENTATION = join(import.meta.dirname, '../../shared/presentation');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

describe('presentation source', () => {
  it('escapes nowhere by hand: escapeHtml is called only inside the html template module', () => {
    // Prepare
    const files = sourceFiles(PRESENTATION).filter((f) => relative(PRESENTATION, f) !== 'html.ts');

    // Act
    const offenders = files.filter((f) => /\bescapeHtml\s*\(|\buserText\s*\(/.test(readFileSync(f, 'utf8')));

    // Assess
    expect(files.length).toBeGreaterThan(5);
    expect(offenders.map((f) => relative(PRESENTATION, f))).toEqual([]);
  });
});
