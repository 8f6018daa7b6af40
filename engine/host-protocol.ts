/** Messages between the worker's main thread and its compute host thread. Plain JSON only. */
export type HostOp = 'warmStart' | 'rollout' | 'spoValues' | 'update' | 'evaluate' | 'release' | 'backend' | PreferenceHostOp;

/** The offline preference run's operations (engine/preference-host.ts). */
export type PreferenceHostOp =
  | 'prefWarmStart' | 'prefCriticalModel' | 'prefCriticalScores' | 'prefTokenRewards' | 'prefUpdate' | 'prefEvaluate' | 'prefRelease';

export interface HostRequest {
  id: number;
  op: HostOp;
  args: unknown;
}

/**
 * A notice that needs no reply and is not queued: the worker answered a step from its recorded
 * output (store/recorded-steps.ts) without asking the host, and tells it so that run-ahead plans
 * from there. `args` are the step's arguments plus `op`, the step answered.
 */
export interface HostNotice {
  notice: 'answered';
  args: { op: HostOp; runId: string; iteration: number } & Record<string, unknown>;
}

export type HostReply =
  | { id: number; kind: 'result'; value: unknown }
  | { id: number; kind: 'error'; message: string; errorType: string; stack?: string }
  | { id: number; kind: 'progress'; details: Record<string, number | string> };
