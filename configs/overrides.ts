/**
 * Command-line overrides of a config file: `run.iterations=3`, `optimizer.lr=1e-3`,
 * `sweep.seeds=[1, 2]` (as `creditflow submit cfg.yaml key.path=value` or `--set key.path=value`).
 *
 * Each value is read as YAML (`3` a number, `true` a boolean, `1e-3` a number, `[1, 2]` a list,
 * anything else a string) and written into the YAML document at its dotted path before validation,
 * so an unknown path or a bad value gets the same error as a bad line in the file; the error names
 * the override instead of a line.
 */
import { parse, type Document } from 'yaml';

export interface ConfigOverride {
  /** As typed: `run.iterations=3`. */
  text: string;
  path: string[];
  value: unknown;
}

export class OverrideError extends Error {
  override name = 'OverrideError';
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** `key.path=value` -> path and YAML value; throws OverrideError naming the argument when malformed. */
export function parseOverride(text: string): ConfigOverride {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new OverrideError(`override ${JSON.stringify(text)}: expected key.path=value`);
  const path = text.slice(0, eq).split('.');
  if (!path.every((s) => SEGMENT.test(s))) {
    throw new OverrideError(`override ${JSON.stringify(text)}: ${JSON.stringify(text.slice(0, eq))} is not a dotted config path such as optimizer.lr`);
  }
  let value: unknown;
  try {
    value = parse(text.slice(eq + 1));
  } catch (err) {
    throw new OverrideError(`override ${JSON.stringify(text)}: the value is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return { text, path, value: value ?? '' };
}

/** Whether an argument looks like an override (the CLI tells them apart from file names this way). */
export const isOverride = (arg: string) => /^[A-Za-z0-9_.-]+=/.test(arg);

/**
 * Writes the overrides into the document, in order (a later one wins). A path through a value that
 * is not a mapping (`seed.x=1`) is an error naming the override.
 */
export function applyOverrides(doc: Document, overrides: readonly ConfigOverride[]): string[] {
  const problems: string[] = [];
  for (const o of overrides) {
    try {
      doc.setIn(o.path, doc.createNode(o.value));
    } catch {
      problems.push(`${o.path.join('.')} (override ${o.text}): ${o.path.slice(0, -1).join('.')} is not a section, so it has no field ${o.path.at(-1)}`);
    }
  }
  return problems;
}

/**
 * The last override that wrote `path`, one of its parents or one of its children: the place to name
 * for a problem at `path`.
 */
export function overrideAt(overrides: readonly ConfigOverride[], path: readonly PropertyKey[]): ConfigOverride | undefined {
  const p = path.map(String);
  for (let k = overrides.length - 1; k >= 0; k--) {
    const o = overrides[k].path;
    const n = Math.min(o.length, p.length);
    if (n > 0 && o.slice(0, n).every((s, i) => s === p[i])) return overrides[k];
  }
  return undefined;
}
