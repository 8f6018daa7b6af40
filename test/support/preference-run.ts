/**
 * A preference run's folder with its train and held-out pairs written, and the sessions that serve
 * it (a preference host over its own RL sessions, each under a 1 GiB budget), for engine tests that
 * drive PreferenceSessions directly. The pairs are checked with the run's own tokenizer (the built-in
 * model's or the checkpoint's). Also the tensors of one of its weights versions, read by name.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { warmStartConfigOf, type PreferenceConfig } from '../../configs/preference-schema.js';
import { PreferenceSessions } from '../../engine/preference-sessions.js';
import { RunSessions } from '../../engine/run-sessions.js';
import { runTokenizer } from '../../engine/run-tokenizer.js';
import { writePairs } from '../../store/preference-files.js';
import { versionDir } from '../../store/weight-versions.js';
import { WEIGHTS_BIN, WEIGHTS_JSON, type WeightsManifest } from '../../models/weights-io.js';
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

/** The tensors of weights version `version` whose names start with `prefix` (`param/`, `adam_m/`…), by name. */
export function versionTensors(runDir: string, version: number, prefix = ''): Map<string, Float32Array> {
  const dir = versionDir(runDir, version);
  const manifest = JSON.parse(readFileSync(join(dir, WEIGHTS_JSON), 'utf8')) as WeightsManifest;
  const bin = readFileSync(join(dir, WEIGHTS_BIN));
  const out = new Map<string, Float32Array>();
  for (const t of manifest.tensors.filter((x) => x.name.startsWith(prefix))) {
    const data = new Float32Array(t.byteLength / 4);
    new Uint8Array(data.buffer).set(bin.subarray(t.offset, t.offset + t.byteLength));
    out.set(t.name, data);
  }
  return out;
}
