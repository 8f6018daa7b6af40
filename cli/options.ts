/** Argument parsing shared by the commands: node's parseArgs with the connection flags added. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { resolveTarget, type TemporalTarget } from '../worker/connection.js';

export const CONNECTION_OPTIONS = {
  address: { type: 'string' },
  namespace: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, positionals: string[]) {
  try {
    const parsed = parseArgs({ args: argv, options: { ...CONNECTION_OPTIONS, ...options }, allowPositionals: positionals.length > 0, strict: true });
    if (!(parsed.values as { help?: boolean }).help && parsed.positionals.length < positionals.length) {
      throw new UsageError(`missing ${positionals.slice(parsed.positionals.length).map((p) => `<${p}>`).join(' ')}`);
    }
    return parsed;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function targetFrom(values: { address?: string; namespace?: string }): TemporalTarget {
  return resolveTarget({ address: values.address, namespace: values.namespace });
}

export async function connectClient(target: TemporalTarget): Promise<Client> {
  const connection = await Connection.connect({ address: target.address, tls: target.tls, apiKey: target.apiKey, connectTimeout: 5000 })
    .catch((err: Error) => {
      throw new Error(`cannot reach Temporal at ${target.address}: ${err.message} (start one with \`creditflow dev\`, or pass --address)`);
    });
  return new Client({ connection, namespace: target.namespace });
}

/** Web UI link for a run. CREDITFLOW_UI_URL overrides the dev server's default. */
export function uiLink(target: TemporalTarget, workflowId?: string): string {
  const base = (process.env.CREDITFLOW_UI_URL ?? 'http://localhost:8233').replace(/\/$/, '');
  const ns = encodeURIComponent(target.namespace);
  return workflowId ? `${base}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}` : `${base}/namespaces/${ns}/workflows`;
}
