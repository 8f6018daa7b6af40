/** `creditflow report <run-or-sweep-id> [--out FILE]`: a self-contained HTML report with plots and a results table. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { collectReport, renderReport } from '../../report/index.js';
import { stateDir } from '../../store/paths.js';
import { connectClient, parse, targetFrom } from '../options.js';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { out: { type: 'string' } }, ['id']);
  if (values.help) {
    console.log('usage: creditflow report <run-id | sweep-id> [--out FILE]   (default: <state>/reports/<id>.html)');
    return 0;
  }
  const id = positionals[0];
  const client = await connectClient(targetFrom(values));
  try {
    const data = await collectReport(client, id);
    const out = resolve(values.out ?? join(stateDir(), 'reports', `${id}.html`));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, await renderReport(data));
    console.log(`wrote ${out} (${data.kind}, ${data.runs.length} run${data.runs.length === 1 ? '' : 's'})`);
    return 0;
  } finally {
    await client.connection.close();
  }
}
