/**
 * What Temporal knows about a run beyond its `progress` query: why it failed (and in which activity),
 * the step running now (with the progress its heartbeats carry: the warm start's SFT steps), and the
 * input its latest execution started with (the config it ran with, for `resume`).
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

type ProtoFailure = temporal.api.failure.v1.IFailure;

export interface RunFailure {
  /** The innermost message: what went wrong. */
  message: string;
  /** The error type the activity raised (DataError, CheckpointError, ...), when it says. */
  type: string | null;
  /** The activity that failed, when the failure came from one. */
  activity: string | null;
  /** `timed out (heartbeat)` and the like, when the activity timed out. */
  timeout: string | null;
}

/** A failure chain (workflow -> activity -> cause) reduced to what a person needs. */
export function describeFailure(failure: ProtoFailure): RunFailure {
  let activity: string | null = null;
  let timeout: string | null = null;
  let type: string | null = null;
  let message = failure.message ?? '';
  for (let f: ProtoFailure | null | undefined = failure; f; f = f.cause) {
    if (f.activityFailureInfo?.activityType?.name) activity = f.activityFailureInfo.activityType.name;
    if (f.timeoutFailureInfo) timeout = `timed out (${String(f.timeoutFailureInfo.timeoutType ?? '').replace(/^TIMEOUT_TYPE_/, '').toLowerCase().replace(/_/g, '-') || 'timeout'})`;
    if (f.applicationFailureInfo?.type) type = f.applicationFailureInfo.type;
    if (f.message && !(f.activityFailureInfo && f.cause)) message = f.message;
  }
  return { message, type, activity, timeout };
}

export function failureLine(f: RunFailure): string {
  const where = f.activity ? `in activity ${f.activity}: ` : '';
  return `${where}${f.timeout ? `${f.timeout}: ` : ''}${f.type ? `${f.type}: ` : ''}${f.message}`;
}

/** Why the latest execution failed (or was terminated), from the end of its history. */
export async function runFailure(client: Client, description: WorkflowExecutionDescription): Promise<RunFailure | null> {
  const status = description.status.name;
  if (status !== 'FAILED' && status !== 'TERMINATED' && status !== 'TIMED_OUT') return null;
  const { history } = await client.workflowService.getWorkflowExecutionHistoryReverse({
    namespace: client.options.namespace, execution: { workflowId: description.workflowId, runId: description.runId }, maximumPageSize: 5,
  });
  for (const event of history?.events ?? []) {
    const failed = event.workflowExecutionFailedEventAttributes?.failure;
    if (failed) return describeFailure(failed);
    const terminated = event.workflowExecutionTerminatedEventAttributes;
    if (terminated) return { message: `terminated${terminated.identity ? ` by ${terminated.identity}` : ''}${terminated.reason ? `: ${terminated.reason}` : ''}`, type: null, activity: null, timeout: null };
    if (event.workflowExecutionTimedOutEventAttributes) return { message: 'the workflow timed out', type: null, activity: null, timeout: 'timed out' };
  }
  return null;
}

export interface PendingStep {
  activity: string;
  attempt: number;
  /** The latest heartbeat's details (the compute host's progress: `{ op, phase, step, of, loss }`). */
  details: Record<string, unknown> | null;
  /** Why the previous attempt failed, while the activity is being retried. */
  lastFailure: RunFailure | null;
}

/** The activities the run is waiting on now (running, or retrying after a failure). */
export function pendingSteps(description: WorkflowExecutionDescription): PendingStep[] {
  return (description.raw.pendingActivities ?? []).map((a) => {
    const payload = a.heartbeatDetails?.payloads?.[0];
    let details: Record<string, unknown> | null = null;
    if (payload) {
      try {
        details = defaultPayloadConverter.fromPayload(payload as never) as Record<string, unknown>;
      } catch {
        details = null;
      }
    }
    return { activity: a.activityType?.name ?? '?', attempt: a.attempt ?? 1, details, lastFailure: a.lastFailure ? describeFailure(a.lastFailure) : null };
  });
}

/** The warm start's SFT progress, while it runs: `{ step, of }` from its heartbeats. */
export function warmStartProgress(steps: PendingStep[]): { step: number; of: number } | null {
  for (const s of steps) {
    const d = s.details;
    if (/warmStart/i.test(s.activity) && d && typeof d.step === 'number' && typeof d.of === 'number') return { step: d.step, of: d.of };
  }
  return null;
}

/** The input the latest execution started with (its first history event). */
export async function latestInput<T>(client: Client, description: WorkflowExecutionDescription): Promise<T> {
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace, execution: { workflowId: description.workflowId, runId: description.runId }, maximumPageSize: 1,
  });
  const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new Error(`${description.workflowId}: its history has no start input`);
  return defaultPayloadConverter.fromPayload(payload as never) as T;
}
