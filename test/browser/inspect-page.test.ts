/**
 * `creditflow inspect`'s page in headless Chromium (Debian's package through playwright-core; no
 * download; fails, never skips, when /usr/bin/chromium is missing): a real SPO-tree iteration made
 * in-process by the compute host (warm start, tree rollout, the cpu worker's score step, the SPO
 * values step), rendered from the run folder. The page shows every completion token by token with
 * its entropy lane (the forking set outlined) and its SPO-advantage lane, and the verifier's
 * verdicts; the screenshot itself is checked for the advantage colours (green and red pixels), so a
 * page that renders its numbers but not its colours fails. Saves test-output/browser/inspect.png.
 * npx vitest run test/browser/inspect-page.test.ts
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCpuActivities } from '../../activities/cpu.js';
import { RunSessions } from '../../engine/run-sessions.js';
import { collectInspect, renderInspect } from '../../report/index.js';
import { PROJECT, learningTinyConfig, tempStateDir } from '../support/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = join(PROJECT, 'test-output', 'browser');
const noProgress = () => undefined;

describe('inspect page (headless Chromium)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('shows an SPO-tree iteration token by token with entropy and advantage lanes and the verdicts', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
    const config = learningTinyConfig({
      experiment: 'inspect', warmStart: { steps: 150 }, rollout: { promptsPerIteration: 8 }, objective: { name: 'spo', spo: { mode: 'tree', tree: { branching: [2, 2], segmentTokens: 1 } } },
    });
    const home = tempStateDir('inspect');
    const runDir = join(home, 'runs', 'r');
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    const args = { runId: 'r', config, runDir };
    await sessions.warmStart(args, noProgress);
    const { rolloutFile } = await sessions.rollout({ ...args, iteration: 1 }, noProgress);
    // The cpu worker's score activity itself, in an activity context (it heartbeats).
    await new MockActivityEnvironment().run(createCpuActivities({ stateDir: home }).score, { runId: 'r', iteration: 1, rolloutFile, rewards: config.rewards });
    await sessions.spoValues({ ...args, iteration: 1 }, noProgress);
    sessions.release('r');

    const data = collectInspect('r', runDir);
    expect(data.scope).toMatch(/^iteration 1 \(32 completions/);
    const html = renderInspect(data);
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
    mkdirSync(OUT, { recursive: true });
    const file = join(OUT, 'inspect.html');
    writeFileSync(file, html);

    const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'cf-chromium-')), {
      executablePath: CHROMIUM, headless: true, viewport: { width: 1200, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = context.pages()[0] ?? await context.newPage();
      await page.goto(`file://${file}`);
      await page.getByText('inspect · r').waitFor({ state: 'visible' });
      expect(await page.locator('section.response').count()).toBe(32);
      const first = page.locator('section.response').first();
      expect(await first.locator('tr[data-lane="entropy / forking set"]').count()).toBe(1);
      expect(await first.locator('tr[data-lane="SPO advantage"]').count()).toBe(1);
      expect(await page.locator('p.verdict').count()).toBe(32);
      expect(await page.locator('td.kept').count()).toBeGreaterThan(0);
      // the tokens of the first completion are its text, cell by cell
      const tokens = await first.locator('td.tok').allInnerTexts();
      expect(tokens.join('').replace(/⏎$/, '')).toBe(data.responses[0].text);

      const png = await page.screenshot({ path: join(OUT, 'inspect.png'), fullPage: true });
      // Count advantage-coloured pixels in the screenshot, decoded by the browser itself.
      const counts = await page.evaluate(async (b64) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.width;
        canvas.height = img.height;
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(img, 0, 0);
        const px = ctx.getImageData(0, 0, img.width, img.height).data;
        let green = 0;
        let red = 0;
        for (let i = 0; i < px.length; i += 4) {
          const [r, g, b] = [px[i], px[i + 1], px[i + 2]];
          if (g > r + 30 && g > b + 30) green++;
          if (r > g + 30 && r > b + 30) red++;
        }
        return { green, red };
      }, png.toString('base64'));
      const advantages = data.responses.flatMap((r) => r.tokens.map((t) => t.spoAdvantage ?? 0));
      if (advantages.some((a) => a > 0)) expect(counts.green).toBeGreaterThan(50);
      if (advantages.some((a) => a < 0)) expect(counts.red).toBeGreaterThan(50);
      expect(advantages.some((a) => a !== 0), 'the iteration has non-zero segment advantages').toBe(true);
    } finally {
      await context.close();
    }
  }, 240_000);
});
