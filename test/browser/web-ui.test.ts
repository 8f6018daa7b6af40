/**
 * The Temporal Web UI, driven by headless Chromium (Debian's package, through playwright-core; no
 * browser download): a dev server with its UI, a finished 2-trial sweep and an unrelated run; the
 * workflow list filtered by `SweepId` shows the sweep and its trials and not the other run. Saves a
 * screenshot under test-output/browser/. Fails (never skips) when /usr/bin/chromium is missing:
 * install it with `apt-get install -y chromium`.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../server/dev-server.js';
import { parseSweepYaml } from '../../sweeps/load.js';
import { startSweep } from '../../sweeps/start.js';
import { startWorker, type RunningWorker } from '../../worker/run-worker.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/shared.js';
import { PROJECT, tempStateDir, tinyConfig, uniqueId } from '../support/harness.js';
import { tinyYaml } from '../sweeps/fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = join(PROJECT, 'test-output', 'browser');

async function untilUiServes(url: string, deadline = Date.now() + 60_000): Promise<void> {
  for (;;) {
    const ok = await fetch(url).then((r) => r.ok).catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`Web UI at ${url} did not answer`);
    await sleep(250);
  }
}

describe('Web UI (headless Chromium)', () => {
  let server: DevServer;
  let worker: RunningWorker;
  let client: Client;
  beforeAll(async () => {
    server = await startDevServer({ port: 'free', uiPort: 'free', log: () => undefined });
    client = new Client({ connection: await Connection.connect({ address: server.address }), namespace: 'default' });
    worker = await startWorker({ target: { address: server.address, namespace: 'default' }, stateDir: tempStateDir('browser'), backend: 'cpu', log: () => undefined });
  });
  afterAll(async () => {
    await worker?.shutdown();
    await client?.connection.close();
    await server?.stop();
  });

  it('filters the workflow list by SweepId and finds the sweep\'s runs', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
    const yaml = `${tinyYaml().replace('experiment: test-tiny', 'experiment: it-browser').replace('iterations: 4', 'iterations: 1')}
sweep:
  grid: { optimizer.lr: [0.003, 0.0003] }
  concurrency: 2
  pollSeconds: 1
`;
    const sweepId = uniqueId('ui');
    const handle = await startSweep(client, parseSweepYaml(yaml, 'ui.yaml'), sweepId);
    // An unrelated run (on a queue nobody serves: it just waits) that the filter must leave out.
    const other = uniqueId('other');
    await client.workflow.start('trainingRun', {
      taskQueue: 'idle', workflowId: other, args: [{ runId: other, config: tinyConfig() }],
      typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.experiment, value: 'it-browser' }],
    });
    await handle.result();
    await untilUiServes(server.uiUrl!);

    mkdirSync(OUT, { recursive: true });
    const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'cf-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 900 },
    });
    try {
      const page = context.pages()[0] ?? await context.newPage();
      const query = `SweepId = "${sweepId}"`;
      await page.goto(`${server.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`, { waitUntil: 'domcontentloaded' });
      for (const id of [sweepId, `${sweepId}-t001`, `${sweepId}-t002`]) {
        await page.getByText(id, { exact: true }).first().waitFor({ state: 'visible', timeout: 45_000 });
      }
      await page.screenshot({ path: join(OUT, 'sweep-filter.png'), fullPage: true });
      expect(await page.getByText(other, { exact: true }).count()).toBe(0);
      expect(await page.getByText(`${sweepId}-t003`, { exact: true }).count()).toBe(0);
    } finally {
      await context.close();
    }
  }, 180_000);
});
