// Opens a self-contained HTML file in Debian's headless Chromium (playwright-core) for tests.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** node:test `skip` value: false when Chromium is installed, else the reason. */
export const chromiumSkip: false | string = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found; install chromium (apt-get install chromium) to run this check`;

/**
 * Loads `htmlFile` in headless Chromium, runs `check` on the page, and returns every console
 * error or warning, page error, and request to anything but a local file.
 */
export async function openInChromium(htmlFile: string, check: (page: Page) => Promise<void>): Promise<string[]> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (r) => { if (!r.url().startsWith('file:')) problems.push(`request ${r.url()}`); });
    await page.goto(pathToFileURL(htmlFile).href);
    await check(page);
    return problems;
  } finally {
    await browser.close();
  }
}
