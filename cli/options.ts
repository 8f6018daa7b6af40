/** What the commands share: the Temporal target from flags, a client, Web UI links, `run(argv)`. */
import { Client, Connection } from '@temporalio/client';
import { currentDevServer } from '../server/state-lock.js';
import { stateDir } from '../store/paths.js';
import { resolveTarget, type TemporalTarget } from '../worker/connection.js';
import { parseCommandLine, UsageError, type Options } from './program.js';

export { UsageError };

export function targetFrom(values: Options): TemporalTarget {
  return resolveTarget({ address: values.address as string | undefined, namespace: values.namespace as string | undefined });
}

export async function connectClient(target: TemporalTarget): Promise<Client> {
  const connection = await Connection.connect({ address: target.address, tls: target.tls, apiKey: target.apiKey, connectTimeout: 5000 })
    .catch((err: Error) => {
      throw new Error(`cannot reach Temporal at ${target.address}: ${err.message} (start one with \`creditflow dev\`, or pass --address)`);
    });
  return new Client({ connection, namespace: target.namespace });
}

const hostPort = (address: string) => address.replace(/^(localhost|0\.0\.0\.0|\[::1\])(?=:)/, '127.0.0.1');

/**
 * The Web UI in use for `target`: CREDITFLOW_UI_URL when set; else the UI of the dev server that
 * holds this state folder, when `target` is that server; else the dev server's default port.
 */
export function uiBase(target: TemporalTarget, home = stateDir()): string {
  const fromEnv = process.env.CREDITFLOW_UI_URL;
  if (fromEnv) return fromEnv.replace(/\/$/, '');
  const dev = currentDevServer(home);
  if (dev?.uiUrl && hostPort(dev.address) === hostPort(target.address)) return dev.uiUrl.replace(/\/$/, '');
  return 'http://localhost:8233';
}

/** Web UI link for a run (or the workflow list without an id). */
export function uiLink(target: TemporalTarget, workflowId?: string, base = uiBase(target)): string {
  const ns = encodeURIComponent(target.namespace);
  return workflowId ? `${base}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}` : `${base}/namespaces/${ns}/workflows`;
}

/**
 * A command run from code (tests, other commands) with a command line: parsed by the same
 * definition as `creditflow <name> ...`; help prints and returns 0, a usage error throws UsageError.
 */
export async function runWithArgv(name: string, argv: string[], execute: (args: unknown[], options: Options) => Promise<number>): Promise<number> {
  const parsed = parseCommandLine([name, ...argv]);
  return parsed ? execute(parsed.args, parsed.options) : 0;
}
