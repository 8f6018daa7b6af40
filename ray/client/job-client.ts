/**
 * `RayJobClient`: a typed client for Ray's job-submission REST API, the API the `ray job` CLI and
 * Ray's Python `JobSubmissionClient` use, served by the head's dashboard (default port 8265).
 *
 *   const ray = new RayJobClient('http://127.0.0.1:8265');
 *   await ray.submitJob({ entrypoint: 'python train.py', submission_id: 'train-1', entrypoint_num_gpus: 1 });
 *   (await ray.getJob('train-1')).status;            // 'PENDING' | 'RUNNING' | 'SUCCEEDED' | ...
 *   for await (const text of ray.tailJobLogs('train-1')) process.stdout.write(text);
 *
 * Failures are typed (errors.ts). Transient ones (connection refused or reset, 502/503/504, the
 * head's agent still starting) are retried with exponential backoff; nothing else is.
 */
import { RayBadRequestError, RayDuplicateSubmissionError, RayJobNotFoundError, RayServerError, RayUnauthorizedError, type RayClientError } from './errors.js';
import { DEFAULT_RETRY, HttpTransport, type HttpAnswer, type RetryPolicy } from './http.js';
import { tailLogs, type TailOptions } from './log-tail.js';
import { MAX_PACKAGE_BYTES, packagePath, packWorkingDir, type PackageOptions } from './package.js';
import { JOB_STATUSES, type JobDetails, type RayVersion, type SubmitJobRequest, type SubmitJobResponse } from './types.js';

export interface RayJobClientOptions {
  /** The head's dashboard: `http://host:8265` (a bare `host:port` means http). */
  address: string;
  /** Ray token authentication (RAY_AUTH_MODE=token): sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Extra headers on every request (a proxy's auth, cookies). */
  headers?: Record<string, string>;
  /** Per request (package uploads get at least 5 minutes). Default 30 s. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

/** `host:port` -> `http://host:port`; an http(s) URL as given, without a trailing slash. */
export function normalizeRayAddress(address: string): string {
  const trimmed = address.trim().replace(/\/+$/, '');
  if (/^https?:\/\//.test(trimmed)) return trimmed;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new Error(`Ray address ${JSON.stringify(address)}: the job API is served over http(s) by the head's dashboard (e.g. http://head:8265), not ${trimmed.split('://')[0]}://`);
  }
  return `http://${trimmed}`;
}

export class RayJobClient {
  readonly address: string;
  private readonly http: HttpTransport;
  private readonly headers: Record<string, string>;

  constructor(options: RayJobClientOptions | string) {
    const o = typeof options === 'string' ? { address: options } : options;
    this.address = normalizeRayAddress(o.address);
    this.headers = { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...o.headers };
    this.http = new HttpTransport(this.address, this.headers, o.timeoutMs ?? 30_000, { ...DEFAULT_RETRY, ...o.retry });
  }

  /** GET /api/version: the API and Ray versions, and the head's session (new after a restart). */
  async version(): Promise<RayVersion> {
    const label = 'GET /api/version';
    const answer = await this.http.request({ method: 'GET', path: '/api/version' });
    if (answer.status === 404) throw new RayServerError(404, `${this.address} does not serve Ray's job API (is it the dashboard port, usually 8265?)`, label);
    return this.json<RayVersion>(answer, label, (v) => typeof (v as RayVersion).ray_version === 'string');
  }

  /**
   * POST /api/jobs/. With a `submission_id`, a second submission of the same id is refused
   * (RayDuplicateSubmissionError), which makes the id an idempotency key; if this call itself had to
   * retry and finds the id taken by a job with the same entrypoint and metadata, that job was this
   * call's own first try, and its id is returned.
   */
  async submitJob(request: SubmitJobRequest): Promise<SubmitJobResponse> {
    const label = 'POST /api/jobs/';
    if (request.entrypoint_memory !== undefined && !Number.isInteger(request.entrypoint_memory)) {
      throw new RayBadRequestError(null, `entrypoint_memory must be an integer number of bytes, got ${request.entrypoint_memory}`, label);
    }
    const answer = await this.http.request({ method: 'POST', path: '/api/jobs/', json: request });
    const text = answer.text();
    // The head relays its agent's refusal of a duplicate id as a 500 quoting the agent's 400.
    if (answer.status !== 200 && request.submission_id && /submission_id .* already exists/.test(text)) {
      if (answer.tries > 1) {
        const existing = await this.findJob(request.submission_id);
        if (existing && existing.entrypoint === request.entrypoint && sameRecord(existing.metadata, request.metadata)) {
          return { submission_id: request.submission_id, job_id: request.submission_id };
        }
      }
      throw new RayDuplicateSubmissionError(request.submission_id, label);
    }
    return this.json<SubmitJobResponse>(answer, label, (v) => typeof (v as SubmitJobResponse).submission_id === 'string');
  }

  /** GET /api/jobs/{id} (a submission id, or a driver job's hex id). */
  async getJob(id: string): Promise<JobDetails> {
    const label = `GET /api/jobs/${id}`;
    const answer = await this.http.request({ method: 'GET', path: jobPath(id) });
    if (answer.status === 404) throw new RayJobNotFoundError(id, label);
    return this.json<JobDetails>(answer, label, isJobDetails);
  }

  /** `getJob`, with null for a job the head does not know. */
  async findJob(id: string): Promise<JobDetails | null> {
    try {
      return await this.getJob(id);
    } catch (err) {
      if (err instanceof RayJobNotFoundError) return null;
      throw err;
    }
  }

  /** GET /api/jobs/: every job the head knows, submitted ones and plain drivers. */
  async listJobs(): Promise<JobDetails[]> {
    const label = 'GET /api/jobs/';
    const answer = await this.http.request({ method: 'GET', path: '/api/jobs/' });
    return this.json<JobDetails[]>(answer, label, (v) => Array.isArray(v) && v.every(isJobDetails));
  }

  /** GET /api/jobs/{id}/logs: everything the entrypoint has written so far (stdout and stderr). */
  async getJobLogs(id: string): Promise<string> {
    const label = `GET /api/jobs/${id}/logs`;
    const answer = await this.http.request({ method: 'GET', path: `${jobPath(id)}/logs` });
    if (answer.status === 404) throw new RayJobNotFoundError(id, label);
    return (await this.json<{ logs: string }>(answer, label, (v) => typeof (v as { logs: unknown }).logs === 'string')).logs;
  }

  /** Follow the logs over WebSocket: yields chunks of text as they come; ends when the job has ended. */
  tailJobLogs(id: string, options: TailOptions = {}): AsyncGenerator<string> {
    return tailLogs(this.address, id, this.headers, options);
  }

  /** POST /api/jobs/{id}/stop: true if a running job was told to stop, false if it had already ended. */
  async stopJob(id: string): Promise<boolean> {
    const label = `POST /api/jobs/${id}/stop`;
    const answer = await this.http.request({ method: 'POST', path: `${jobPath(id)}/stop` });
    if (answer.status === 404) throw new RayJobNotFoundError(id, label);
    return (await this.json<{ stopped: boolean }>(answer, label, (v) => typeof (v as { stopped: unknown }).stopped === 'boolean')).stopped;
  }

  /** DELETE /api/jobs/{id}: forget an ended job and its logs. A job that has not ended is refused (bad request). */
  async deleteJob(id: string): Promise<boolean> {
    const label = `DELETE /api/jobs/${id}`;
    const answer = await this.http.request({ method: 'DELETE', path: jobPath(id) });
    if (answer.status === 404) throw new RayJobNotFoundError(id, label);
    if (answer.status === 500 && answer.text().includes('non-terminal state')) {
      throw new RayBadRequestError(500, `job ${id} has not ended: stop it first`, label);
    }
    return (await this.json<{ deleted: boolean }>(answer, label, (v) => typeof (v as { deleted: unknown }).deleted === 'boolean')).deleted;
  }

  /** GET /api/packages/{protocol}/{name}: whether the head has this package. */
  async packageExists(uri: string): Promise<boolean> {
    const path = this.packagePathOf(uri);
    const answer = await this.http.request({ method: 'GET', path });
    if (answer.status === 404) return false;
    if (answer.status === 200) return true;
    throw this.failure(answer, `GET ${path}`);
  }

  /** PUT /api/packages/{protocol}/{name}: store a zip under `uri` in the head's GCS. */
  async uploadPackage(uri: string, zip: Buffer): Promise<void> {
    const path = this.packagePathOf(uri);
    if (zip.length > MAX_PACKAGE_BYTES) {
      throw new RayBadRequestError(null, `package is ${(zip.length / 2 ** 20).toFixed(1)} MiB; the head accepts at most ${MAX_PACKAGE_BYTES / 2 ** 20} MiB (exclude large files)`, `PUT ${path}`);
    }
    const answer = await this.http.request({ method: 'PUT', path, body: zip, timeoutMs: 300_000 });
    if (answer.status !== 200) throw this.failure(answer, `PUT ${path}`);
  }

  /**
   * Pack `dir` (package.ts) and upload it unless the head has it already; returns the `gcs://` URI
   * to pass as `runtime_env.working_dir`.
   */
  async uploadWorkingDir(dir: string, options: PackageOptions = {}): Promise<string> {
    const pkg = packWorkingDir(dir, options);
    if (!(await this.packageExists(pkg.uri))) await this.uploadPackage(pkg.uri, pkg.zip);
    return pkg.uri;
  }

  private packagePathOf(uri: string): string {
    try {
      return packagePath(uri);
    } catch (err) {
      throw new RayBadRequestError(null, (err as Error).message, 'package request');
    }
  }

  /** The answer's JSON body if it is a 200 of the promised shape; the typed failure otherwise. */
  private async json<T>(answer: HttpAnswer, label: string, valid: (value: unknown) => boolean): Promise<T> {
    if (answer.status !== 200) throw this.failure(answer, label);
    let value: unknown;
    try {
      value = JSON.parse(answer.text());
    } catch {
      throw new RayServerError(200, `answer is not JSON: ${answer.text().slice(0, 200)}`, label);
    }
    if (!valid(value)) throw new RayServerError(200, `unexpected answer: ${answer.text().slice(0, 200)}`, label);
    return value as T;
  }

  private failure(answer: HttpAnswer, label: string): RayClientError {
    const text = answer.text().trim();
    const status = answer.status;
    if (status === 401 || status === 403) return new RayUnauthorizedError(status, text, label);
    if (status === 405 && text.includes('browser')) return new RayBadRequestError(status, `${text} (the head took this request for a browser's)`, label);
    if (status >= 400 && status < 500) return new RayBadRequestError(status, lastLine(text), label);
    // The head answers a request its agent refused with a 500 that quotes the agent's 4xx.
    const relayed = /Request failed with status code (4\d\d)/.exec(text);
    if (relayed) return new RayBadRequestError(Number(relayed[1]), lastLine(text), label);
    return new RayServerError(status, lastLine(text), label);
  }
}

const jobPath = (id: string) => `/api/jobs/${encodeURIComponent(id)}`;

/** Ray answers errors with a Python traceback; its last line names the exception. */
function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && l !== '.');
  return (lines.at(-1) ?? '').slice(0, 500) || '(empty answer)';
}

function isJobDetails(value: unknown): value is JobDetails {
  const v = value as JobDetails;
  return typeof v === 'object' && v !== null && typeof v.entrypoint === 'string' && (JOB_STATUSES as readonly string[]).includes(v.status);
}

function sameRecord(a: Record<string, string> | null | undefined, b: Record<string, string> | undefined): boolean {
  const x = a ?? {};
  const y = b ?? {};
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => x[k] === y[k]);
}
