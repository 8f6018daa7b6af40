/** `creditflow resume <id>`: un-pause a run or sweep; continue an ended run from its newest good checkpoint (cli/resume-run.ts). */
import { stateDir } from '../../store/paths.js';
import { connectClient, targetFrom, uiLink } from '../options.js';
import type { Options } from '../program.js';
import { resumeRun } from '../resume-run.js';

export async function execute([id]: unknown[], options: Options): Promise<number> {
  const target = targetFrom(options);
  const client = await connectClient(target);
  try {
    const description = await client.workflow.getHandle(id as string).describe();
    const outcome = await resumeRun(client, id as string, description, stateDir());
    if (outcome.kind === 'signalled') console.log(`${id}: resumed`);
    else {
      console.log(`${id}: was ${description.status.name.toLowerCase()}; continues from checkpoint ${outcome.fromCheckpoint}`
        + ` (of ${outcome.totalIterations}) in ${outcome.runDir}`);
      console.log(`  Web UI: ${uiLink(target, id as string)}`);
    }
    return 0;
  } finally {
    await client.connection.close();
  }
}
