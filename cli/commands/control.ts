/** `creditflow pause|resume|stop|cancel <run-id>`: steer a running run. */
import { pauseSignal, resumeSignal, stopSignal } from '../../workflows/shared.js';
import { connectClient, parse, targetFrom } from '../options.js';

type Action = 'pause' | 'resume' | 'stop' | 'cancel';

async function control(action: Action, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {}, ['run-id']);
  if (values.help) {
    console.log(`usage: creditflow ${action} <run-id>`);
    return 0;
  }
  const client = await connectClient(targetFrom(values));
  try {
    const handle = client.workflow.getHandle(positionals[0]);
    if (action === 'cancel') await handle.cancel();
    else await handle.signal({ pause: pauseSignal, resume: resumeSignal, stop: stopSignal }[action]);
    const said = { pause: 'will pause after its current step', resume: 'resumed', stop: 'will checkpoint and finish', cancel: 'cancellation requested' }[action];
    console.log(`${positionals[0]}: ${said}`);
    return 0;
  } finally {
    await client.connection.close();
  }
}

export const pause = (argv: string[]) => control('pause', argv);
export const resume = (argv: string[]) => control('resume', argv);
export const stop = (argv: string[]) => control('stop', argv);
export const cancel = (argv: string[]) => control('cancel', argv);
