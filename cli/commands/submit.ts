/**
 * `creditflow submit <config.yaml> [key.path=value ...] [--set key.path=value] [--id ID] [--from RUN[@V]] [--watch] [--dry-run]`:
 * validate first (overrides written over the file, then the schema, then every row of its data and a
 * preference config's pairs), then start the run. An id already in use is refused; `--from` starts from another run's
 * weights instead of the warm start.
 */
import { stringify } from 'yaml';
import { ConfigError, loadRunConfigFile, parseRunConfigYaml, readConfigText } from '../../configs/load.js';
import { DEFAULT_MEMORY_BUDGET_MB, memoryProblems } from '../../configs/memory-estimate.js';
import { parseOverride, type ConfigOverride } from '../../configs/overrides.js';
import { warmStartConfigOf } from '../../configs/preference-schema.js';
import { runTokenizer } from '../../engine/run-tokenizer.js';
import { runDir, stateDir } from '../../store/paths.js';
import { seedInitWeights, sourceState } from '../../store/init-weights.js';
import { loadRunData } from '../../tasks/data-set.js';
import { writeRunRows } from '../../store/run-rows.js';
import { writePairsCopy } from '../../store/preference-files.js';
import { existsSync, rmSync } from 'node:fs';
import { preferenceDataSet } from '../../tasks/preference-data.js';
import { connectClient, runWithArgv, targetFrom, uiLink, UsageError } from '../options.js';
import type { Options } from '../program.js';
import { newRunId, refuseUsedRunId, submitAnyRun, temporalStringProblems } from '../submit-run.js';
import { watchRun } from '../watch-run.js';

/** Positional overrides and `--set` ones, in the order given (a later one wins). */
export function overridesFrom(positional: string[], set: string[]): ConfigOverride[] {
  return [...positional, ...set].map((arg) => {
    if (!arg.includes('=')) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}: after the config file come overrides, key.path=value`);
    return parseOverride(arg);
  });
}

/** `run@7` -> run and version 7; `run` -> its newest checkpoint. */
function parseFrom(from: string): { runId: string; version?: number } {
  const at = from.lastIndexOf('@');
  if (at < 0) return { runId: from };
  const version = Number(from.slice(at + 1));
  if (!Number.isInteger(version) || version < 0) throw new UsageError(`--from ${from}: the part after @ must be a weights version number`);
  return { runId: from.slice(0, at), version };
}

/** The model sections must match, or the source's weights do not fit the new run's model. */
function checkSameModel(fromRunDir: string, fromId: string, model: Record<string, unknown>): void {
  const source = parseRunConfigYaml(readConfigText(`${fromRunDir}/config.yaml`), `${fromRunDir}/config.yaml`, fromRunDir).config.model as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(source), ...Object.keys(model)])];
  const differ = keys.filter((k) => JSON.stringify(source[k]) !== JSON.stringify(model[k]));
  if (differ.length > 0) {
    throw new UsageError(`--from ${fromId}: its weights do not fit this config's model: ${differ.map((k) => `model.${k} is ${JSON.stringify(source[k])} there, ${JSON.stringify(model[k])} here`).join('; ')}`);
  }
}

export async function execute([file, positional]: unknown[], options: Options): Promise<number> {
  const overrides = overridesFrom(positional as string[], (options.set as string[] | undefined) ?? []);
  // Validation happens before any connection: a bad config (or a bad line of its data or pairs) never reaches the server.
  const runConfig = loadRunConfigFile(file as string, overrides);
  // What the worker cannot hold, and names Temporal would refuse, are config errors too: caught here, before any row is read.
  const runId = (options.id as string | undefined) ?? newRunId(runConfig.config);
  const refused = [
    ...memoryProblems(runConfig, (options.memoryBudgetMb as number | undefined) ?? DEFAULT_MEMORY_BUDGET_MB),
    ...temporalStringProblems(runId, runConfig.config, options.id === undefined ? 'experiment (the run id starts with it)' : '--id'),
  ];
  if (refused.length > 0) throw new ConfigError(file as string, refused);
  const rowsConfig = runConfig.kind === 'preference' ? warmStartConfigOf(runConfig.config) : runConfig.config;
  const tokenizer = runTokenizer(rowsConfig);
  const rows = loadRunData(rowsConfig, tokenizer);
  const pairs = runConfig.kind === 'preference' ? preferenceDataSet(runConfig.config, tokenizer) : undefined;
  if (options.dryRun) {
    process.stdout.write(`# ${file}${overrides.length ? ` with ${overrides.map((o) => o.text).join(' ')}` : ''}: valid; the config as it would run\n`);
    process.stdout.write(stringify(runConfig.config));
    return 0;
  }
  const home = stateDir();
  const from = options.from === undefined ? undefined : parseFrom(options.from as string);
  const source = from && (() => {
    const dir = runDir(from.runId, home);
    checkSameModel(dir, from.runId, runConfig.config.model as Record<string, unknown>);
    return { runId: from.runId, ...sourceState(dir, from.version) };
  })();
  const target = targetFrom(options);
  const client = await connectClient(target);
  try {
    await refuseUsedRunId(client, runId, home);
    const dir = runDir(runId, home);
    let handle;
    try {
      // The validated data, copied with its hashes: the workers read this copy, never the config's paths.
      const copy = writeRunRows(dir, rows, { source: rowsConfig.data.source, copiedAt: 'submit' });
      if (pairs) writePairsCopy(dir, pairs);
      if (source) await seedInitWeights(source, dir);
      handle = await submitAnyRun(client, runConfig, runId);
      console.log(`started run ${handle.workflowId}`);
      console.log(`  data: ${dir}/rows (train.jsonl sha256 ${copy.files['train.jsonl'].sha256.slice(0, 12)}…)`);
    } catch (err) {
      // Nothing started under this id: leave no folder that would make the id look used.
      if (!handle && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    if (overrides.length) console.log(`  overrides: ${overrides.map((o) => o.text).join(' ')}`);
    if (source) console.log(`  from: ${source.runId} weights version ${source.version} (instead of the warm start)`);
    console.log(`  Web UI: ${uiLink(target, handle.workflowId)}`);
    if (options.watch) console.log(JSON.stringify(await watchRun(client, handle.workflowId), null, 2));
    return 0;
  } finally {
    await client.connection.close();
  }
}

export const run = (argv: string[]) => runWithArgv('submit', argv, execute);
