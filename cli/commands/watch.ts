/** `creditflow watch <run-or-sweep-id>`: a live progress bar for a run, a live trial table for a sweep. */
import { connectClient, parse, targetFrom } from '../options.js';
import { watchRun } from '../watch-run.js';
import { watchSweep } from '../watch-sweep.js';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {}, ['id']);
  if (values.help) {
    console.log('usage: creditflow watch <run-id | sweep-id>');
    return 0;
  }
  const client = await connectClient(targetFrom(values));
  try {
    const description = await client.workflow.getHandle(positionals[0]).describe();
    if (description.type === 'sweep') {
      await watchSweep(client, positionals[0]);
      return 0;
    }
    const result = await watchRun(client, positionals[0]);
    console.log(JSON.stringify(result, null, 2));
    return 0;
  } finally {
    await client.connection.close();
  }
}
