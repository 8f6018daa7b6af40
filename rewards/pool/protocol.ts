/** Messages between the pool and its workers. */
import type { Verdict } from '../types.js';
import type { SyncSpec } from '../registry.js';

export interface PoolTask {
  key: number;
  spec: SyncSpec;
  completion: string;
  gold: string;
}
export interface PoolRequest {
  tasks: PoolTask[];
}
export type PoolReply = { key: number; verdict: Verdict } | { ready: true };
