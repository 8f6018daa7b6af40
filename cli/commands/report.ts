/** `creditflow report <run-id | sweep-id> [--out FILE]`: one self-contained HTML file with plots and a results table. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { collectReport, renderReport } from '../../report/index.js';
import { stateDir } from '../../store/paths.js';
import { connectClient, targetFrom } from '../options.js';
import type { Options } from '../program.js';

export async function execute([id]: unknown[], options: Options): Promise<number> {
  const client = await connectClient(targetFrom(options));
  try {
    const data = await collectReport(client, id as string);
    const out = resolve((options.out as string | undefined) ?? join(stateDir(), 'reports', `${id}.html`));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, await renderReport(data));
    console.log(`wrote ${out} (${data.kind}, ${data.runs.length} run${data.runs.length === 1 ? '' : 's'})`);
    return 0;
  } finally {
    await client.connection.close();
  }
}
