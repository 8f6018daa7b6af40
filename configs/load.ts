/**
 * Reading an experiment config: YAML text -> validated, frozen `ExperimentConfig`.
 *
 * Errors name the field by its dotted path and, when the YAML has it, the line, so
 * `objective.clipLow (line 12): expected number, received string` points straight at the fix.
 *
 * Two kinds of run share the format: an RL config (no `kind`, or `kind: rl`; schema.ts) and an
 * offline preference config (`kind: preference`; preference-schema.ts). `loadRunConfigFile` reads
 * either and says which; `loadConfigFile` stays the RL-only reader (sweeps, the demo).
 */
import { readBoundedText } from '../common/bounded-file.js';
import { BOUNDS, tooBig } from './bounds.js';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { applyOverrides, overrideAt, type ConfigOverride } from './overrides.js';
import { PreferenceExperimentSchema, type PreferenceConfig } from './preference-schema.js';
import { ExperimentSchema, type ExperimentConfig } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(public readonly source: string, public readonly problems: string[]) {
    super(`invalid config ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Where a field came from: its YAML line (a number), or a label such as `override run.iterations=3`
 * for a value given on the command line; undefined when unknown (a default).
 */
export type LineOf = (path: PropertyKey[]) => number | string | undefined;

/** ` (line 5)`, ` (override run.iterations=3)`, or nothing. */
export const whereSuffix = (where: number | string | undefined) =>
  (where === undefined ? '' : typeof where === 'number' ? ` (line ${where})` : ` (${where})`);

function describeIssue(issue: z.core.$ZodIssue, lineOf: LineOf): string {
  const path = issue.path.map(String).join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (issue.path.length ? `${path}.${k}` : k));
    // An override that added the key is named; in the file, the section's line is.
    const byOverride = lineOf([...issue.path, issue.keys[0]]);
    return `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}${whereSuffix(typeof byOverride === 'string' ? byOverride : lineOf(issue.path))}`;
  }
  const where = `${path}${whereSuffix(lineOf(issue.path))}`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${where}: required field is missing`;
  return `${where}: ${issue.message}`;
}

function validateWith<S extends z.ZodType>(schema: S, raw: unknown, source: string, lineOf: LineOf): z.infer<S> {
  const result = schema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(source, result.error.issues.map((i) => describeIssue(i, lineOf)));
  return deepFreeze(result.data);
}

/**
 * Validate a plain object (already parsed); `lineOf` maps a field path to its YAML line, when known.
 * Relative data file paths are resolved against `baseDir` (the config file's folder).
 */
export function validateConfig(
  raw: unknown,
  source = '<config>',
  lineOf: LineOf = () => undefined,
  baseDir = process.cwd(),
): ExperimentConfig {
  if (kindOf(raw) === 'preference') {
    throw new ConfigError(source, [`kind${lineAt(lineOf, ['kind'])}: a preference config; \`creditflow submit\` runs it (this reader takes RL configs only)`]);
  }
  return validateWith(ExperimentSchema, withDataPaths(raw, baseDir), source, lineOf);
}

/** Parse and validate YAML text (with command-line overrides written over it); data paths are taken from `baseDir`. */
export function parseConfigYaml(text: string, source = '<config>', overrides: readonly ConfigOverride[] = [], baseDir = process.cwd()): ExperimentConfig {
  const { raw, lineOf } = readYaml(text, source, overrides);
  return validateConfig(raw, source, lineOf, baseDir);
}

/** The config's data files (rows, held-out rows, demonstrations, preference pairs), by field path. */
const DATA_PATHS = [['data', 'path'], ['data', 'heldOut', 'path'], ['warmStart', 'path'], ['pairs', 'path']];

/** `raw` with every relative data file path made absolute against `baseDir` (other values untouched). */
function withDataPaths(raw: unknown, baseDir: string): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(raw)) return raw;
  const out: Record<string, unknown> = { ...raw };
  for (const path of DATA_PATHS) {
    let parent: Record<string, unknown> | null = out;
    for (const key of path.slice(0, -1)) {
      const child: unknown = parent[key];
      if (!isObject(child)) {
        parent = null;
        break;
      }
      parent = parent[key] = { ...child };
    }
    const last = path[path.length - 1];
    const value = parent?.[last];
    if (parent && typeof value === 'string' && !isAbsolute(value)) parent[last] = resolve(baseDir, value);
  }
  return out;
}

/**
 * YAML text -> plain object, with `lineOf` for error messages. Overrides are written into the
 * document first; a field an override set (or sits under) is named by the override, not a line.
 */
export function readYaml(text: string, source: string, overrides: readonly ConfigOverride[] = []): { raw: unknown; lineOf: LineOf } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(source, doc.errors.map((e) => `YAML syntax (line ${e.linePos?.[0]?.line ?? '?'}): ${e.message.split('\n')[0]}`));
  }
  const expansion = aliasExpansionProblem(doc, lineCounter);
  if (expansion) throw new ConfigError(source, [expansion]);
  const overrideProblems = applyOverrides(doc, overrides);
  if (overrideProblems.length > 0) throw new ConfigError(source, overrideProblems);
  const lineOf = (path: PropertyKey[]): number | string | undefined => {
    const override = overrideAt(overrides, path);
    if (override) return `override ${override.text}`;
    for (let n = path.length; n >= 1; n--) {
      const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: -1 }) ?? {};
  } catch (err) {
    throw new ConfigError(source, [`YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  return { raw, lineOf };
}

/**
 * A config whose aliases expand it past {@link BOUNDS.yamlNodes} values ("billion laughs": each
 * level an alias list of the one before), named by the line of its largest alias; null when it fits.
 * Sizes are counted on the parsed document, memoised per node, so the check itself stays small.
 */
function aliasExpansionProblem(doc: Document, lines: LineCounter): string | null {
  const sizes = new Map<unknown, number>();
  const open = new Set<unknown>();
  const sizeOf = (node: unknown): number => {
    if (node === null || node === undefined) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (open.has(node)) return Infinity; // an alias inside the node it names: endless when expanded
    open.add(node);
    let size = 1;
    if (isAlias(node)) size = sizeOf(node.resolve(doc));
    else if (isMap(node) || isSeq(node)) for (const item of node.items) size += isPair(item) ? sizeOf(item.key) + sizeOf(item.value) : sizeOf(item);
    else if (!isScalar(node)) size = 1;
    open.delete(node);
    sizes.set(node, size);
    return size;
  };
  const total = sizeOf(doc.contents);
  if (total <= BOUNDS.yamlNodes.max) return null;
  let largest: { node: Node; size: number } | null = null;
  visit(doc, {
    Alias(_, node) {
      const size = sizeOf(node);
      if (!largest || size > largest.size) largest = { node, size };
    },
  });
  const found = largest as { node: Node; size: number } | null;
  const line = found?.node.range ? lines.linePos(found.node.range[0]).line : undefined;
  const count = (n: number) => (Number.isFinite(n) ? n.toLocaleString('en-US') : 'endless');
  const alias = found ? `; the alias *${(found.node as unknown as { source: string }).source}${whereSuffix(line)} alone expands to ${count(found.size)} values` : '';
  return `YAML: the config expands to ${count(total)} values, ${tooBig(BOUNDS.yamlNodes)}${alias}`;
}

export function readConfigText(path: string): string {
  try {
    return readBoundedText(path, BOUNDS.configFileBytes.max, 'config file');
  } catch (err) {
    throw new ConfigError(path, [`cannot read file: ${(err as Error).message}`]);
  }
}

export function loadConfigFile(path: string, overrides: readonly ConfigOverride[] = []): ExperimentConfig {
  return parseConfigYaml(readConfigText(path), path, overrides, dirname(resolve(path)));
}

// ------------------------------------------------------------------------------------------------
// RL or preference
// ------------------------------------------------------------------------------------------------

export type RunConfig =
  | { kind: 'rl'; config: ExperimentConfig }
  | { kind: 'preference'; config: PreferenceConfig };

const kindOf = (raw: unknown): unknown => (raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>).kind : undefined);
const lineAt = (lineOf: LineOf, path: PropertyKey[]) => whereSuffix(lineOf(path));

/**
 * Validate an RL or a preference config, told apart by the top-level `kind`. Relative data file
 * paths (`data.path`, `data.heldOut.path`, `warmStart.path`, `pairs.path`) are resolved against
 * `baseDir` (the config file's folder).
 */
export function validateRunConfig(raw: unknown, source = '<config>', lineOf: LineOf = () => undefined, baseDir = process.cwd()): RunConfig {
  const kind = kindOf(raw);
  const resolved = withDataPaths(raw, baseDir);
  if (kind === 'preference') return { kind: 'preference', config: validateWith(PreferenceExperimentSchema, resolved, source, lineOf) };
  if (kind === undefined) return { kind: 'rl', config: validateWith(ExperimentSchema, resolved, source, lineOf) };
  if (kind === 'rl') {
    const { kind: _rl, ...rest } = resolved as Record<string, unknown>;
    return { kind: 'rl', config: validateWith(ExperimentSchema, rest, source, lineOf) };
  }
  throw new ConfigError(source, [`kind${lineAt(lineOf, ['kind'])}: expected 'rl' (or no kind) or 'preference', got ${JSON.stringify(kind)}`]);
}

export function parseRunConfigYaml(text: string, source = '<config>', baseDir = process.cwd(), overrides: readonly ConfigOverride[] = []): RunConfig {
  const { raw, lineOf } = readYaml(text, source, overrides);
  return validateRunConfig(raw, source, lineOf, baseDir);
}

/** Read an RL or a preference config file, with command-line overrides written over it. */
export function loadRunConfigFile(path: string, overrides: readonly ConfigOverride[] = []): RunConfig {
  return parseRunConfigYaml(readConfigText(path), path, dirname(resolve(path)), overrides);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
