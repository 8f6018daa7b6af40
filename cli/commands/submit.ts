/** `creditflow submit <config.yaml> [--id ID] [--watch]`: validate first, then start the run. */
import { loadConfigFile } from '../../configs/load.js';
import { connectClient, parse, targetFrom, uiLink } from '../options.js';
import { submitRun } from '../submit-run.js';
import { watchRun } from '../watch-run.js';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { id: { type: 'string' }, watch: { type: 'boolean' } }, ['config.yaml']);
  if (values.help) {
    console.log('usage: creditflow submit <config.yaml> [--id RUN_ID] [--watch] [--address host:port] [--namespace NS]');
    return 0;
  }
  // Validation happens before any connection: a bad config never reaches the server.
  const config = loadConfigFile(positionals[0]);
  const target = targetFrom(values);
  const client = await connectClient(target);
  try {
    const handle = await submitRun(client, config, values.id);
    console.log(`started run ${handle.workflowId}`);
    console.log(`  Web UI: ${uiLink(target, handle.workflowId)}`);
    if (values.watch) console.log(JSON.stringify(await watchRun(client, handle.workflowId), null, 2));
    return 0;
  } finally {
    await client.connection.close();
  }
}
