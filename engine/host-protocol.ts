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

export type HostReply =
  | { id: number; kind: 'result'; value: unknown }
  | { id: number; kind: 'error'; message: string; errorType: string; stack?: string }
  | { id: number; kind: 'progress'; details: Record<string, number | string> };
