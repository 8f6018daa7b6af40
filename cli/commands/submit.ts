/**
 * `creditflow submit <config.yaml> [--id ID] [--watch]`: validate first, then start the run. An RL config
 * starts a `trainingRun`, a `kind: preference` config a `preferenceRun` (its pairs are validated too).
 */
import { loadRunConfigFile } from '../../configs/load.js';
import { warmStartConfigOf } from '../../configs/preference-schema.js';
import { runTokenizer } from '../../engine/run-tokenizer.js';
import { loadRunData } from '../../tasks/data-set.js';
import { preferenceDataSet } from '../../tasks/preference-data.js';
import { connectClient, parse, targetFrom, uiLink } from '../options.js';
import { submitAnyRun } from '../submit-run.js';
import { watchRun } from '../watch-run.js';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { id: { type: 'string' }, watch: { type: 'boolean' } }, ['config.yaml']);
  if (values.help) {
    console.log('usage: creditflow submit <config.yaml> [--id RUN_ID] [--watch] [--address host:port] [--namespace NS]');
    return 0;
  }
  // Validation happens before any connection: a bad config (or a bad line of its data or pairs) never reaches the server.
  const runConfig = loadRunConfigFile(positionals[0]);
  const rowsConfig = runConfig.kind === 'preference' ? warmStartConfigOf(runConfig.config) : runConfig.config;
  const tokenizer = runTokenizer(rowsConfig);
  loadRunData(rowsConfig, tokenizer);
  if (runConfig.kind === 'preference') preferenceDataSet(runConfig.config, tokenizer);
  const target = targetFrom(values);
  const client = await connectClient(target);
  try {
    const handle = await submitAnyRun(client, runConfig, values.id);
    console.log(`started run ${handle.workflowId}`);
    console.log(`  Web UI: ${uiLink(target, handle.workflowId)}`);
    if (values.watch) console.log(JSON.stringify(await watchRun(client, handle.workflowId), null, 2));
    return 0;
  } finally {
    await client.connection.close();
  }
}
