/** `creditflow pause|stop|cancel <id>`: steer a running run or sweep (`resume` is commands/resume.ts). */
import { pauseSignal, stopSignal } from '../../workflows/shared.js';
import { connectClient, targetFrom } from '../options.js';
import type { Options } from '../program.js';

type Action = 'pause' | 'stop' | 'cancel';

async function control(action: Action, [id]: unknown[], options: Options): Promise<number> {
  const client = await connectClient(targetFrom(options));
  try {
    const handle = client.workflow.getHandle(id as string);
    if (action === 'cancel') await handle.cancel();
    else await handle.signal({ pause: pauseSignal, stop: stopSignal }[action]);
    const said = { pause: 'will pause after its current step', stop: 'will checkpoint and finish', cancel: 'cancellation requested' }[action];
    console.log(`${id}: ${said}`);
    return 0;
  } finally {
    await client.connection.close();
  }
}

export const pause = (args: unknown[], options: Options) => control('pause', args, options);
export const stop = (args: unknown[], options: Options) => control('stop', args, options);
export const cancel = (args: unknown[], options: Options) => control('cancel', args, options);
