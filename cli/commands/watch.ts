/** `creditflow watch <run-or-sweep-id>`: a live progress bar for a run, a live trial table for a sweep. */
import { connectClient, targetFrom } from '../options.js';
import type { Options } from '../program.js';
import { watchRun } from '../watch-run.js';
import { watchSweep } from '../watch-sweep.js';

export async function execute([id]: unknown[], options: Options): Promise<number> {
  const client = await connectClient(targetFrom(options));
  try {
    const description = await client.workflow.getHandle(id as string).describe();
    if (description.type === 'sweep') {
      await watchSweep(client, id as string);
      return 0;
    }
    const result = await watchRun(client, id as string);
    console.log(JSON.stringify(result, null, 2));
    return 0;
  } finally {
    await client.connection.close();
  }
}
