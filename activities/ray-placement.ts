/**
 * Model steps of a run with `compute.placement: ray`, run as Ray jobs instead of on the worker's
 * compute host. The compute activities (compute.ts, preference.ts) hand a step here in place of
 * the host; everything around the step (recorded results, metrics lines) stays theirs.
 *
 * A step is one Ray job whose entrypoint is creditflow's own step command on the run's files
 * (ray/step-runner.ts), so the run folder must be on a file system the Ray nodes share. The
 * activity:
 * - names the job by the step: `cf-<namespace>-<run>-<op>-<iteration|step|role>-<n>`. A retry (this
 *   worker's or another's after a crash) finds the job of an earlier attempt and follows it instead
 *   of submitting twice; only after a job FAILED or was STOPPED does it submit the next n;
 * - heartbeats while it polls (details: the submission id and Ray's status);
 * - maps Ray's statuses to the activity's outcome: SUCCEEDED returns the step's result; FAILED
 *   fails with the step's own error type (so DataError stays non-retryable) and the job's log tail;
 * - stops the job when the activity is cancelled or times out;
 * - waits out a head that is down (a restart; `unreachableSeconds`), then finds its step again: a
 *   restarted head has forgotten its jobs, so the step is submitted anew and, being idempotent and
 *   seeded, writes the same output.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type { HostOp } from '../engine/host-protocol.js';
import type { ComputeConfig } from '../configs/compute-schema.js';
import { PROJECT_ROOT } from '../store/paths.js';
import { isTerminal, RayBadRequestError, RayDuplicateSubmissionError, RayJobClient, RayUnauthorizedError, RayUnreachableError, type JobDetails } from '../ray/client/index.js';
import { METADATA_MARK, readStepOutcome, requestFile, stepKey, writeStepRequest, type StepRequest } from '../ray/step-files.js';
import { whileHeartbeating } from './heartbeat.js';

export interface RayPlacementOptions {
  /** The worker's forced backend, passed to every step so it computes as the worker would. */
  backend?: string;
  /** How long a head that does not answer is waited for before the attempt fails (default 180 s). */
  unreachableSeconds?: number;
}

export type StepArgs = { runId: string; runDir: string; config: { compute: ComputeConfig } } & Record<string, unknown>;

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const idPart = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

export class RayPlacement {
  private readonly clients = new Map<string, RayJobClient>();

  constructor(private readonly options: RayPlacementOptions = {}) {}

  private clientFor(compute: ComputeConfig): RayJobClient {
    const address = compute.address ?? process.env.RAY_ADDRESS;
    if (!address) {
      throw ApplicationFailure.nonRetryable("compute.placement is 'ray' but neither compute.address nor the worker's RAY_ADDRESS names a Ray head (http://host:8265)", 'ConfigError');
    }
    let client = this.clients.get(address);
    // RAY_AUTH_TOKEN: the token of a head with token authentication, as Ray's own tools read it.
    if (!client) this.clients.set(address, (client = new RayJobClient({ address, token: process.env.RAY_AUTH_TOKEN || undefined })));
    return client;
  }

  /** Run `op` of a run as a Ray job, from the activity that needs it; resolves with the step's result. */
  async run<T>(op: HostOp, args: StepArgs): Promise<T> {
    const ctx = Context.current();
    const client = this.clientFor(args.config.compute);
    const request: StepRequest = { op, args };
    const base = `cf-${idPart(ctx.info.workflowNamespace ?? 'default')}-${args.runId}-${idPart(stepKey(request))}`;
    const state = { details: { op, submissionId: '', status: 'looking' } as Record<string, string> };
    return whileHeartbeating(this.follow<T>(client, request, base, state), () => state.details);
  }

  private async follow<T>(client: RayJobClient, request: StepRequest, base: string, state: { details: Record<string, string> }): Promise<T> {
    // Settles with the CancelledFailure once the activity is cancelled (or times out); never rejects.
    const cancellation = Context.current().cancelled.then(() => undefined, (err: unknown) => err as Error);
    const waitHead = new HeadWait(client.address, this.options.unreachableSeconds ?? 180, cancellation);
    const answered = (id: string, job: JobDetails) => job.status === 'SUCCEEDED' && this.outcome<T>(request, id, job) !== undefined;
    let unanswered = 0;
    for (;;) {
      // Find the step's live or finished job, or submit one.
      let id = '';
      let job: JobDetails | null = null;
      try {
        for (let n = 1; ; n++) {
          id = `${base}-${n}`;
          job = await client.findJob(id);
          if (!job) {
            job = await this.submit(client, request, id);
            break;
          }
          // Running, or done with its result on disk: follow it. Failed, stopped, or done without a
          // result (its outcome file lost): that attempt is over, look at the next.
          if (!isTerminal(job.status) || answered(id, job)) break;
        }
        waitHead.answered();
      } catch (err) {
        await waitHead.failed(err);
        continue;
      }
      state.details = { op: request.op, submissionId: id, status: job.status };
      const ended = await this.poll(client, id, job, state, waitHead, cancellation);
      if (ended === null) continue; // the head forgot the job (it restarted): find or submit again
      const value = this.outcome<T>(request, id, ended);
      if (value !== undefined) return value.result;
      if (ended.status === 'SUCCEEDED' && ++unanswered < 3) continue; // no outcome file after all: run it again
      if (ended.status === 'SUCCEEDED') {
        throw ApplicationFailure.retryable(`Ray job ${id} (${request.op}) succeeded, but its outcome ${requestFile(request.args.runDir, id).replace(/\.json$/, '.out.json')} is not visible here: is the state folder on a file system shared with the Ray nodes?`, 'RayOutcomeMissing');
      }
      throw await this.failure(client, request, id, ended);
    }
  }

  private async submit(client: RayJobClient, request: StepRequest, id: string): Promise<JobDetails> {
    const ctx = Context.current();
    const { compute } = (request.args as StepArgs).config;
    const path = requestFile(request.args.runDir, id);
    writeStepRequest(path, request);
    const projectDir = compute.projectDir ?? PROJECT_ROOT;
    const env: Record<string, string> = {};
    const backend = this.options.backend ?? process.env.CREDITFLOW_BACKEND;
    if (backend) env.CREDITFLOW_BACKEND = backend;
    const { workflowNamespace = '', workflowExecution } = ctx.info;
    try {
      await client.submitJob({
        submission_id: id,
        entrypoint: `node ${shellQuote(join(projectDir, 'bin', 'creditflow.mjs'))} ray step ${shellQuote(path)}`,
        runtime_env: Object.keys(env).length ? { env_vars: env } : undefined,
        metadata: {
          [METADATA_MARK]: '1', namespace: workflowNamespace, runId: request.args.runId, op: request.op, step: stepKey(request),
          workflowId: workflowExecution?.workflowId ?? '', workflowRunId: workflowExecution?.runId ?? '', runDir: request.args.runDir,
        },
        entrypoint_num_cpus: compute.resources.cpus,
        entrypoint_num_gpus: compute.resources.gpus,
        entrypoint_memory: compute.resources.memoryMb === undefined ? undefined : compute.resources.memoryMb * 2 ** 20,
        entrypoint_resources: Object.keys(compute.resources.custom).length ? compute.resources.custom : undefined,
      });
    } catch (err) {
      // Another attempt (a retry racing this one) submitted it first: follow that job.
      if (!(err instanceof RayDuplicateSubmissionError)) throw err;
    }
    return client.getJob(id);
  }

  /** Poll until the job ends; null if the head no longer knows it. Stops the job if the activity is cancelled. */
  private async poll(
    client: RayJobClient, id: string, first: JobDetails, state: { details: Record<string, string> }, waitHead: HeadWait, cancellation: Promise<Error | undefined>,
  ): Promise<JobDetails | null> {
    let job = first;
    let delay = 100;
    while (!isTerminal(job.status)) {
      const cancelled = await Promise.race([cancellation, sleep(delay)]);
      if (cancelled) {
        await this.stop(client, id);
        throw cancelled;
      }
      // Quick at first (short steps end within a second), then twice a second.
      delay = Math.min(delay * 1.5, 500);
      try {
        const now = await client.findJob(id);
        waitHead.answered();
        if (!now) return null;
        job = now;
      } catch (err) {
        await waitHead.failed(err);
        state.details = { ...state.details, status: 'head unreachable' };
        continue;
      }
      state.details = { ...state.details, status: job.status, ...(job.status === 'PENDING' && job.message ? { message: job.message } : {}) };
    }
    return job;
  }

  /** Stop the job and wait (a few seconds at most) until Ray says it has ended. */
  private async stop(client: RayJobClient, id: string): Promise<void> {
    try {
      await client.stopJob(id);
      for (let i = 0; i < 40; i++) {
        const job = await client.findJob(id);
        if (!job || isTerminal(job.status)) return;
        await sleep(250);
      }
    } catch {
      // The head is gone: so is the job.
    }
  }

  /** The step's result if the job wrote one. */
  private outcome<T>(request: StepRequest, id: string, job: JobDetails): { result: T } | undefined {
    if (job.status !== 'SUCCEEDED') return undefined;
    const outcome = readStepOutcome(requestFile(request.args.runDir, id));
    return outcome?.ok ? { result: outcome.value as T } : undefined;
  }

  private async failure(client: RayJobClient, request: StepRequest, id: string, job: JobDetails): Promise<ApplicationFailure> {
    const outcome = readStepOutcome(requestFile(request.args.runDir, id));
    const logs = await client.getJobLogs(id).catch((err: Error) => `(logs unavailable: ${err.message})`);
    const tail = logs.trimEnd().split('\n').slice(-40).join('\n');
    const why = outcome && !outcome.ok ? `${outcome.errorType}: ${outcome.message}` : `${job.error_type ?? 'no error type'}: ${job.message ?? ''}`;
    const type = outcome && !outcome.ok ? outcome.errorType : job.status === 'STOPPED' ? 'RayJobStopped' : 'RayJobFailed';
    return ApplicationFailure.retryable(
      `Ray job ${id} (${request.op}) ${job.status}: ${why}\n--- last lines of its log ---\n${tail}`,
      type,
      { submissionId: id, status: job.status, rayErrorType: job.error_type, exitCode: job.driver_exit_code },
    );
  }
}

/** How long the head has not answered; past the limit, the attempt fails (retryable). */
class HeadWait {
  private since: number | null = null;

  constructor(private readonly address: string, private readonly limitSeconds: number, private readonly cancellation: Promise<Error | undefined>) {}

  answered(): void {
    this.since = null;
  }

  /**
   * An error from the head: rethrown unless it is unreachable and still within the limit (then a
   * pause). A refused request will be refused again: that fails the activity for good.
   */
  async failed(err: unknown): Promise<void> {
    if (err instanceof RayBadRequestError || err instanceof RayUnauthorizedError) {
      throw ApplicationFailure.nonRetryable(`${err.message} (check compute.address and compute.resources)`, 'RayRequestRefused');
    }
    if (!(err instanceof RayUnreachableError)) throw err;
    this.since ??= Date.now();
    if (Date.now() - this.since > this.limitSeconds * 1000) {
      throw ApplicationFailure.retryable(`the Ray head at ${this.address} has not answered for ${this.limitSeconds} s: ${err.message}`, 'RayUnreachable');
    }
    const cancelled = await Promise.race([this.cancellation, sleep(1000)]);
    if (cancelled) throw cancelled;
  }
}
