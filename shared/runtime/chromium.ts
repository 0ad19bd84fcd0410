/**
 * Headless Chromium for looking at what followback renders (the digest email, the approval page, the
 * console): playwright-core driving, in order of precedence, the binary `CHROMIUM_PATH` names, the
 * system's Chromium, or the Chromium that ships inside the `@sparticuz/chromium` npm package (so a
 * fresh clone needs no apt-get and no browser download). A fresh profile, nothing that phones home.
 * Loaded on demand: playwright-core and @sparticuz/chromium are dev dependencies.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ConfigError } from '../domain/errors.ts';

export const SYSTEM_CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_INSTALL_HINT =
  'Chromium is needed to render pages: run `npm install` (it brings @sparticuz/chromium), ' +
  'or set CHROMIUM_PATH to a Chromium or Chrome binary.';

/** Where the Chromium to drive is: CHROMIUM_PATH, else the system's, else the npm package's. */
export async function resolveChromiumPath(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const configured = env.CHROMIUM_PATH;
  if (configured !== undefined && configured !== '') {
    if (!existsSync(configured)) {
      throw new ConfigError(`no Chromium at ${configured} (CHROMIUM_PATH). ${CHROMIUM_INSTALL_HINT}`, {
        details: { field: 'CHROMIUM_PATH' },
      });
    }
    return configured;
  }
  if (existsSync(SYSTEM_CHROMIUM_PATH)) return SYSTEM_CHROMIUM_PATH;
  try {
    const { default: packaged } = await import('@sparticuz/chromium');
    // Unpacks the brotli-compressed binary into the temp folder once (about 1.5 s), then reuses it.
    return await packaged.executablePath();
  } catch (cause) {
    throw new ConfigError(`no Chromium found. ${CHROMIUM_INSTALL_HINT}`, {
      details: { field: 'CHROMIUM_PATH' },
      cause,
    });
  }
}

export interface HeadlessChromium {
  browser: Browser;
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches headless Chromium with a fresh profile; ConfigError with the install hint when absent. */
export async function launchChromium(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<HeadlessChromium> {
  const executablePath = await resolveChromiumPath();
  const { chromium } = await import('playwright-core');
  const profile = await mkdtemp(join(tmpdir(), 'followback-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: options.viewport ?? { width: 1100, height: 900 },
  });
  const browser = context.browser();
  return {
    browser: browser as Browser,
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** A full-page PNG of a local HTML file (e.g. the digest's `.html` in the outbox). */
export async function screenshotFile(
  chromium: HeadlessChromium,
  htmlPath: string,
  pngPath: string,
  width = 680,
): Promise<string> {
  const page = await chromium.context.newPage();
  try {
    await page.setViewportSize({ width, height: 900 });
    // The email may reference https images (avatars): a screenshot needs no network.
    await page.route(/^https?:\/\//, (route) => route.abort());
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
    await wholePage(page, pngPath);
    return pngPath;
  } finally {
    await page.close();
  }
}

/** A full-page PNG of a URL (the approval page on the loopback server). */
export async function screenshotUrl(
  chromium: HeadlessChromium,
  url: string,
  pngPath: string,
): Promise<string> {
  const page = await chromium.context.newPage();
  try {
    await page.goto(url, { waitUntil: 'load' });
    await wholePage(page, pngPath);
    return pngPath;
  } finally {
    await page.close();
  }
}

/**
 * Screenshots the whole page by making the viewport as tall as the page first: a full-page capture
 * of a shorter viewport would draw sticky elements (the approval page's buttons) over the content.
 */
export async function wholePage(page: Page, pngPath: string): Promise<void> {
  const width = page.viewportSize()?.width ?? 1100;
  // A string: the function runs in the page, which Node's type library knows nothing about.
  const height = Number(await page.evaluate('Math.ceil(document.documentElement.scrollHeight)'));
  await page.setViewportSize({ width, height: Math.min(Math.max(height, 200), 16_000) });
  await mkdir(dirname(pngPath), { recursive: true });
  await page.screenshot({ path: pngPath, fullPage: true });
}
