/**
 * Where the worker and the CLI find Temporal: flags, else environment, else the local dev server.
 * The same code talks to any Temporal cluster; TLS (and mTLS) is on when a certificate is given.
 */
import { readFileSync } from 'node:fs';

export interface TemporalTarget {
  address: string;
  namespace: string;
  tls?: { serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer }; serverNameOverride?: string } | true;
  apiKey?: string;
}

export interface TargetFlags {
  address?: string;
  namespace?: string;
}

/**
 * Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS=1, TEMPORAL_TLS_CA, TEMPORAL_TLS_CERT,
 * TEMPORAL_TLS_KEY, TEMPORAL_TLS_SERVER_NAME, TEMPORAL_API_KEY (the variable names the Temporal CLI uses).
 */
export function resolveTarget(flags: TargetFlags = {}, env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const target: TemporalTarget = {
    address: flags.address ?? env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: flags.namespace ?? env.TEMPORAL_NAMESPACE ?? 'default',
  };
  const cert = env.TEMPORAL_TLS_CERT;
  const key = env.TEMPORAL_TLS_KEY;
  if ((cert && !key) || (key && !cert)) throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together');
  if (cert || env.TEMPORAL_TLS_CA || env.TEMPORAL_TLS === '1' || env.TEMPORAL_TLS === 'true' || env.TEMPORAL_API_KEY) {
    const tls: Exclude<TemporalTarget['tls'], true | undefined> = {};
    if (env.TEMPORAL_TLS_CA) tls.serverRootCACertificate = readFileSync(env.TEMPORAL_TLS_CA);
    if (cert && key) tls.clientCertPair = { crt: readFileSync(cert), key: readFileSync(key) };
    if (env.TEMPORAL_TLS_SERVER_NAME) tls.serverNameOverride = env.TEMPORAL_TLS_SERVER_NAME;
    target.tls = Object.keys(tls).length ? tls : true;
  }
  if (env.TEMPORAL_API_KEY) target.apiKey = env.TEMPORAL_API_KEY;
  return target;
}
