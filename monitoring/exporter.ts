/**
 * The worker's Prometheus endpoint: `GET /metrics` on one port (`--metrics-port` or
 * `CREDITFLOW_METRICS_PORT`; off by default) serves creditflow's metrics followed by the Temporal
 * SDK's runtime metrics (`temporal_*`: pollers, task latencies, slots), which the SDK's own exporter
 * serves on a private loopback port that this endpoint reads through. One scrape target per worker.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { CreditflowMetrics } from './metrics.js';

/** The port from a flag or the environment; undefined = metrics off. */
export function metricsPortFrom(flag?: string | number, env = process.env.CREDITFLOW_METRICS_PORT): number | undefined {
  const raw = flag ?? env;
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`metrics port must be an integer in 0..65535, got ${raw}`);
  return port;
}

/** A free loopback port for the SDK's exporter. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface MetricsEndpoint {
  port: number;
  close(): Promise<void>;
}

export async function startMetricsEndpoint(options: { port: number; host?: string; metrics: CreditflowMetrics; sdkMetricsUrl?: string }): Promise<MetricsEndpoint> {
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('see /metrics\n');
      return;
    }
    void (async () => {
      let text = await options.metrics.registry.metrics();
      if (options.sdkMetricsUrl) {
        text += await fetch(options.sdkMetricsUrl).then((r) => r.text()).catch((err: Error) => `# temporal sdk metrics unavailable: ${err.message}\n`);
      }
      res.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(text);
    })().catch((err: Error) => res.writeHead(500).end(err.message));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
