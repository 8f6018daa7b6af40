/**
 * The compute host's preference operations: host-thread.ts hands every `pref*` request here, and
 * this maps it onto the run's PreferenceSessions (one per host thread, beside the RL sessions).
 */
import type { PreferenceHostOp } from './host-protocol.js';
import type { PreferenceArgs, PreferenceSessions } from './preference-sessions.js';
import type { CriticalModelRole } from '../store/preference-files.js';

type Progress = (details: Record<string, number | string>) => void;

const OPS: Record<PreferenceHostOp, true> = {
  prefWarmStart: true, prefCriticalModel: true, prefCriticalScores: true, prefTokenRewards: true,
  prefUpdate: true, prefEvaluate: true, prefRelease: true,
};

export function isPreferenceOp(op: string): op is PreferenceHostOp {
  return Object.prototype.hasOwnProperty.call(OPS, op);
}

export async function servePreference(sessions: PreferenceSessions, op: PreferenceHostOp, args: unknown, progress: Progress): Promise<unknown> {
  const a = args as PreferenceArgs & { step: number; role: CriticalModelRole };
  switch (op) {
    case 'prefWarmStart': return sessions.warmStart(a, progress);
    case 'prefCriticalModel': return sessions.trainCriticalModel(a, progress);
    case 'prefCriticalScores': return sessions.scoreCriticalTokens(a, progress);
    case 'prefTokenRewards': return sessions.scoreTokenRewards(a, progress);
    case 'prefUpdate': return sessions.update(a, progress);
    case 'prefEvaluate': return sessions.evaluate(a);
    case 'prefRelease': return sessions.release(a.runId);
  }
}
