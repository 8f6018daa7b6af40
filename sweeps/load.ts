/**
 * Reading a sweep file: an experiment config (the base) plus a `sweep:` section.
 *
 * Everything is checked before anything starts: the base against the experiment schema, the section
 * against the sweep schema, and then every expanded trial's config against the experiment schema
 * again, since a dotted path may name a field that does not exist or a value the field refuses. An
 * error names the field and the YAML line that caused it, and the trials it breaks:
 * `sweep.grid.optimizer.lr (line 14): optimizer.lr: Too small: expected number to be >0 (trials t003, t004)`.
 */
import type { z } from 'zod';
import { ConfigError, readConfigText, readYaml, validateConfig, whereSuffix, type LineOf } from '../configs/load.js';
import type { ConfigOverride } from '../configs/overrides.js';
import { ExperimentSchema, type ExperimentConfig } from '../configs/schema.js';
import { SweepSchema, type SweepSection } from '../configs/sweep-schema.js';
import { applyParams, paramsLabel, type SweepSettings, type TrialParams } from '../workflows/sweep-plan.js';
import { expandTrials, trialCount } from './expand.js';

export interface LoadedSweep {
  source: string;
  base: ExperimentConfig;
  section: SweepSection;
  settings: SweepSettings;
  /** One entry per trial, in trial order (trial k has id `<sweepId>-t<k>`). */
  params: TrialParams[];
}

const at = (where: string, line: number | string | undefined) => `${where}${whereSuffix(line)}`;

function describe(issue: z.core.$ZodIssue, prefix: string[], lineOf: LineOf): string {
  const path = [...prefix, ...issue.path.map(String)];
  const where = at(path.join('.') || '(root)', lineOf(path));
  if (issue.code === 'unrecognized_keys') return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${where}: required field is missing`;
  return `${where}: ${issue.message}`;
}

/** Where the sweep declares a parameter: `sweep.grid.<key>`, `sweep.random.params.<key>` or `sweep.seeds`. */
function declaredAt(section: SweepSection, key: string): string[] {
  if (key in section.grid) return ['sweep', 'grid', key];
  if (section.random && key in section.random.params) return ['sweep', 'random', 'params', key];
  return ['sweep', 'seeds'];
}

/** The trial parameter an experiment-schema issue comes from: the one whose path overlaps it most. */
function culprit(issue: z.core.$ZodIssue, params: TrialParams): string | undefined {
  const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path.map(String), k]) : [issue.path.map(String)];
  let best: { key: string; overlap: number } | undefined;
  for (const key of Object.keys(params)) {
    const segments = key.split('.');
    for (const p of paths) {
      let overlap = 0;
      while (overlap < Math.min(p.length, segments.length) && p[overlap] === segments[overlap]) overlap++;
      if (overlap > 0 && (!best || overlap > best.overlap)) best = { key, overlap };
    }
  }
  return best?.key;
}

/** A sweep file's text -> its validated trials; `overrides` (command line) are written over the file first. */
export function parseSweepYaml(text: string, source = '<sweep>', overrides: readonly ConfigOverride[] = []): LoadedSweep {
  const read = readYaml(text, source, overrides);
  const lineOf: LineOf = read.lineOf;
  const raw = read.raw as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || !('sweep' in raw)) {
    throw new ConfigError(source, ['sweep: required section is missing (a sweep file is an experiment config plus a `sweep:` section)']);
  }
  const { sweep: rawSection, ...rawBase } = raw;

  const problems: string[] = [];
  let base: ExperimentConfig | undefined;
  try {
    base = validateConfig(rawBase, source, lineOf);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  const parsed = SweepSchema.safeParse(rawSection ?? {}, { reportInput: true });
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => describe(i, ['sweep'], lineOf)));
  if (problems.length || !base || !parsed.success) throw new ConfigError(source, problems);
  const section = parsed.data;

  const count = trialCount(section);
  if (count > section.maxTrials) {
    throw new ConfigError(source, [`${at('sweep', lineOf(['sweep']))}: expands to ${count} trials, more than sweep.maxTrials (${section.maxTrials})`]);
  }
  const params = expandTrials(section);

  // Every trial's config must pass the experiment schema; the same message from several trials is said once.
  const found = new Map<string, string[]>();
  const note = (message: string, trial: string) => found.set(message, [...(found.get(message) ?? []), trial]);
  params.forEach((p, k) => {
    const trial = `t${String(k + 1).padStart(3, '0')}`;
    const config = applyParams(base, p);
    const result = ExperimentSchema.safeParse(config, { reportInput: true });
    if (!result.success) {
      for (const issue of result.error.issues) {
        const key = culprit(issue, p);
        const declared = key ? declaredAt(section, key) : ['sweep'];
        note(`${at(declared.join('.'), lineOf(declared))}: ${describe(issue, [], () => undefined)}${key ? '' : ` [${paramsLabel(p)}]`}`, trial);
      }
    } else if (section.earlyStop && section.earlyStop.atIteration >= result.data.run.iterations) {
      note(`${at('sweep.earlyStop.atIteration', lineOf(['sweep', 'earlyStop', 'atIteration']))}: must be below run.iterations (${result.data.run.iterations})`, trial);
    }
  });
  if (found.size) {
    throw new ConfigError(source, [...found].map(([m, trials]) => `${m} (trial${trials.length > 1 ? 's' : ''} ${trials.slice(0, 6).join(', ')}${trials.length > 6 ? ', …' : ''})`));
  }
  const { metric, direction, concurrency, pollSeconds, continueAsNewEvery } = section;
  const earlyStop = section.earlyStop && {
    metric: section.earlyStop.metric, direction: section.earlyStop.direction,
    atIteration: section.earlyStop.atIteration, minTrials: section.earlyStop.minTrials,
  };
  return { source, base, section, settings: { metric, direction, concurrency, pollSeconds, continueAsNewEvery, earlyStop }, params };
}

export function loadSweepFile(path: string, overrides: readonly ConfigOverride[] = []): LoadedSweep {
  return parseSweepYaml(readConfigText(path), path, overrides);
}
