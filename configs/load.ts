/**
 * Reading an experiment config: YAML text -> validated, frozen `ExperimentConfig`.
 *
 * Errors name the field by its dotted path and, when the YAML has it, the line, so
 * `objective.clipLow (line 12): expected number, received string` points straight at the fix.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ExperimentSchema, type ExperimentConfig } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(public readonly source: string, public readonly problems: string[]) {
    super(`invalid config ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function describeIssue(issue: z.core.$ZodIssue, lineOf: (path: PropertyKey[]) => number | undefined): string {
  const path = issue.path.map(String).join('.') || '(root)';
  const line = lineOf(issue.path);
  const where = line === undefined ? path : `${path} (line ${line})`;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (issue.path.length ? `${path}.${k}` : k));
    return `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}${line === undefined ? '' : ` (line ${line})`}`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${where}: required field is missing`;
  return `${where}: ${issue.message}`;
}

/** Validate a plain object (already parsed); `lineOf` maps a field path to its YAML line, when known. */
export function validateConfig(
  raw: unknown,
  source = '<config>',
  lineOf: (path: PropertyKey[]) => number | undefined = () => undefined,
): ExperimentConfig {
  const result = ExperimentSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(source, result.error.issues.map((i) => describeIssue(i, lineOf)));
  return deepFreeze(result.data);
}

/** Parse and validate YAML text. */
export function parseConfigYaml(text: string, source = '<config>'): ExperimentConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(source, doc.errors.map((e) => `YAML syntax (line ${e.linePos?.[0]?.line ?? '?'}): ${e.message.split('\n')[0]}`));
  }
  const lineOf = (path: PropertyKey[]): number | undefined => {
    for (let n = path.length; n >= 1; n--) {
      const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  return validateConfig(doc.toJS() ?? {}, source, lineOf);
}

export function loadConfigFile(path: string): ExperimentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read file: ${(err as Error).message}`]);
  }
  return parseConfigYaml(text, path);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
