/**
 * The MLflow tracker, through MLflow's REST API (`/api/2.0/mlflow/...`) at MLFLOW_TRACKING_URI: one
 * MLflow run per creditflow run, in the experiment named like the config's `experiment`; the
 * flattened config as params, every metrics.jsonl line as metrics at step = iteration, the newest
 * checkpoint's folder as the tag `creditflow.checkpoint`, and FINISHED at the end.
 *
 * Every call is idempotent over retries and workers: the MLflow run is found again by its
 * `creditflow.run_id` tag before one is created, params are logged once with the values they have.
 * MLflow allows letters, digits and `_ - . / : ` (space) in metric and param names; anything else
 * (`eval/pass@8`) is spelled out (`eval/pass_at_8`).
 */
import type { MetricsLine } from '../store/metrics-log.js';
import type { Tracker, TrackerContext } from './tracker.js';

const API = '/api/2.0/mlflow';
const MAX_METRICS_PER_BATCH = 1000;
const MAX_PARAMS_PER_BATCH = 100;
const MAX_PARAM_VALUE = 6000;

export class MlflowError extends Error {
  override name = 'MlflowError';
}

/** A metric or param name MLflow accepts. */
export const mlflowKey = (name: string) => name.replace(/@/g, '_at_').replace(/[^\w./\- :]/g, '_');

/** `{ optimizer: { lr: 1e-3 } }` -> `{ "optimizer.lr": "0.001" }`. */
export function flattenParams(value: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenParams(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) {
    out[mlflowKey(prefix)] = (typeof value === 'string' ? value : JSON.stringify(value)).slice(0, MAX_PARAM_VALUE);
  }
  return out;
}

export class MlflowTracker implements Tracker {
  readonly name = 'mlflow' as const;

  constructor(private readonly uri: string, private readonly timeoutMs = 10_000) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.uri.replace(/\/$/, '')}${API}/${path}`, {
      method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    }).catch((err: Error) => {
      throw new MlflowError(`cannot reach MLflow at ${this.uri}: ${(err.cause as Error | undefined)?.message ?? err.message}`);
    });
    const text = await response.text();
    if (!response.ok) {
      let code = '';
      try {
        code = (JSON.parse(text) as { error_code?: string }).error_code ?? '';
      } catch { /* not JSON */ }
      const error = new MlflowError(`MLflow ${path}: HTTP ${response.status}${code ? ` ${code}` : ''}: ${text.slice(0, 300)}`);
      (error as MlflowError & { code?: string }).code = code;
      throw error;
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  private async experimentId(name: string): Promise<string> {
    try {
      const found = await this.call<{ experiment: { experiment_id: string } }>('GET', `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
      return found.experiment.experiment_id;
    } catch (err) {
      if ((err as { code?: string }).code !== 'RESOURCE_DOES_NOT_EXIST') throw err;
    }
    try {
      return (await this.call<{ experiment_id: string }>('POST', 'experiments/create', { name })).experiment_id;
    } catch (err) {
      // Another worker created it in between.
      if ((err as { code?: string }).code !== 'RESOURCE_ALREADY_EXISTS') throw err;
      return this.experimentId(name);
    }
  }

  async start(ctx: TrackerContext): Promise<void> {
    if (typeof ctx.state.mlflowRunId !== 'string') {
      const experimentId = await this.experimentId(ctx.experiment);
      const found = await this.call<{ runs?: { info: { run_id: string } }[] }>('POST', 'runs/search', {
        experiment_ids: [experimentId], filter: `tags.\`creditflow.run_id\` = '${ctx.runId}'`, max_results: 1,
      });
      ctx.state.mlflowRunId = found.runs?.[0]?.info.run_id ?? (await this.call<{ run: { info: { run_id: string } } }>('POST', 'runs/create', {
        experiment_id: experimentId, run_name: ctx.runId, start_time: Date.now(),
        tags: [{ key: 'mlflow.runName', value: ctx.runId }, { key: 'creditflow.run_id', value: ctx.runId }, { key: 'creditflow.run_dir', value: ctx.runDir }],
      })).run.info.run_id;
      ctx.state.mlflowExperimentId = experimentId;
    }
    if (ctx.state.paramsLogged !== true) {
      const params = Object.entries(flattenParams(ctx.config)).map(([key, value]) => ({ key, value }));
      for (let k = 0; k < params.length; k += MAX_PARAMS_PER_BATCH) {
        await this.call('POST', 'runs/log-batch', { run_id: ctx.state.mlflowRunId, params: params.slice(k, k + MAX_PARAMS_PER_BATCH) });
      }
      ctx.state.paramsLogged = true;
    }
  }

  async log(ctx: TrackerContext, lines: MetricsLine[]): Promise<void> {
    const metrics = lines.flatMap((l) => Object.entries(l.metrics)
      .filter(([, v]) => typeof v === 'number' && Number.isFinite(v))
      .map(([key, value]) => ({ key: mlflowKey(key), value, timestamp: Date.parse(l.time), step: l.iteration })));
    for (let k = 0; k < metrics.length; k += MAX_METRICS_PER_BATCH) {
      await this.call('POST', 'runs/log-batch', { run_id: ctx.state.mlflowRunId, metrics: metrics.slice(k, k + MAX_METRICS_PER_BATCH) });
    }
  }

  async checkpoint(ctx: TrackerContext, path: string): Promise<void> {
    await this.call('POST', 'runs/set-tag', { run_id: ctx.state.mlflowRunId, key: 'creditflow.checkpoint', value: path });
  }

  async finish(ctx: TrackerContext): Promise<void> {
    await this.call('POST', 'runs/update', { run_id: ctx.state.mlflowRunId, status: 'FINISHED', end_time: Date.now() });
  }

  where(ctx: TrackerContext): string {
    const id = ctx.state.mlflowRunId;
    return typeof id === 'string' && typeof ctx.state.mlflowExperimentId === 'string'
      ? `${this.uri.replace(/\/$/, '')}/#/experiments/${ctx.state.mlflowExperimentId}/runs/${id}` : this.uri;
  }
}
