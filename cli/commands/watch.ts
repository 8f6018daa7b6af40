/** `creditflow watch <run-id>`: live progress bar until the run ends. */
import { connectClient, parse, targetFrom } from '../options.js';
import { watchRun } from '../watch-run.js';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {}, ['run-id']);
  if (values.help) {
    console.log('usage: creditflow watch <run-id>');
    return 0;
  }
  const client = await connectClient(targetFrom(values));
  try {
    const result = await watchRun(client, positionals[0]);
    console.log(JSON.stringify(result, null, 2));
    return 0;
  } finally {
    await client.connection.close();
  }
}
