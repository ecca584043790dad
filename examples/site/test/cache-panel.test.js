// /_cache in a real browser: Debian's Chromium driven by playwright-core (never a downloaded
// browser). The chart must render, then change after traffic; a screenshot is kept in
// test-results/ as the test's artifact.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, chromiumPath, chromiumSkipReason } from '@cachette/test-servers';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSite } from './start-site.js';

const skip = chromiumSkipReason();
const artifacts = join(dirname(dirname(fileURLToPath(import.meta.url))), 'test-results');

describe.skipIf(skip)(`/_cache in Chromium${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let site;
  let browser;
  beforeAll(async () => {
    site = await startSite();
    browser = await chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS] });
  });
  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  it('renders the chart, and it changes after traffic', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    await page.goto(`${site.base}/_cache`);
    await page.waitForFunction(() => Number(document.body.dataset.updates ?? 0) >= 1);
    const defaultAlias = page.locator('section.alias[data-alias="default"]');
    const before = Number(await defaultAlias.getAttribute('data-operations'));
    for (let round = 0; round < 3; round++) {
      await Promise.all(['/', '/articles/per-view-cache', '/search?q=cache', '/low-level', '/account'].map((path) => site.get(path)));
    }
    await page.waitForFunction((count) => Number(document.querySelector('section.alias[data-alias="default"]').dataset.operations) > count, before);
    await page.waitForFunction(() => {
      const points = document.querySelector('section.alias[data-alias="default"] polyline.ops').getAttribute('points');
      return points.split(' ').some((point) => Number(point.split(',')[1]) < 116);
    });
    // A few more seconds of history, so the screenshot shows a line.
    const updates = Number(await page.evaluate(() => document.body.dataset.updates));
    await page.waitForFunction((count) => Number(document.body.dataset.updates) >= count + 3, updates, { timeout: 30_000 });
    const totals = await defaultAlias.locator('.totals').textContent();
    expect(totals).toMatch(/^hit rate \d+ %/);
    expect(await page.locator('#recent tr').count()).toBeGreaterThan(0);
    expect(await page.locator('#recent').textContent()).toContain('popular-articles');
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'cache-panel.png'), fullPage: true });
  });
});
