/**
 * A preference run's folder with its train and held-out pairs written, and the sessions that serve
 * it (a preference host over its own RL sessions, each under a 1 GiB budget), for engine tests that
 * drive PreferenceSessions directly. The pairs are checked with the run's own tokenizer (the built-in
 * model's or the checkpoint's).
 */
import { join } from 'node:path';
import { warmStartConfigOf, type PreferenceConfig } from '../../configs/preference-schema.js';
import { PreferenceSessions } from '../../engine/preference-sessions.js';
import { RunSessions } from '../../engine/run-sessions.js';
import { runTokenizer } from '../../engine/run-tokenizer.js';
import { writePairs } from '../../store/preference-files.js';
import { preferenceDataSet } from '../../tasks/preference-data.js';
import { tempStateDir } from './harness.js';

export function preparedPreferenceRun(config: PreferenceConfig, label: string) {
  const runDir = join(tempStateDir(label), 'run');
  const data = preferenceDataSet(config, runTokenizer(warmStartConfigOf(config)));
  writePairs(runDir, 'train', data.train);
  writePairs(runDir, 'heldout', data.heldOut);
  const runs = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
  return { runDir, args: { runId: 'r', config, runDir }, sessions: new PreferenceSessions({ runs, memoryBudgetBytes: 2 ** 30 }) };
}
