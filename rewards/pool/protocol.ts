/** Messages between the pool and its workers. */
import type { Verdict } from '../types.js';
import type { SyncSpec } from '../registry.js';

export interface PoolTask {
  key: number;
  spec: SyncSpec;
  completion: string;
  gold: string;
  /** The completion was cut off by the length limit (VerifyCase.truncated). */
  truncated?: boolean;
}
export interface PoolRequest {
  tasks: PoolTask[];
}
export type PoolReply = { key: number; verdict: Verdict } | { ready: true };
