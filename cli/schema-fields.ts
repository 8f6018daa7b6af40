/**
 * Every field of a zod config schema, with its type, default and description, read from the
 * schema itself (its `.describe()` text is the one source): what `creditflow config` prints. It
 * walks whatever the schema says, so a new section or field shows up here with no change.
 */
import type { z } from 'zod';

export interface FieldDoc {
  /** Dotted path (`optimizer.lr`); a variant of a discriminated section adds `[name=dpo]`. */
  path: string;
  type: string;
  /** The default as YAML-ish text; null when the field has none (required, or optional without one). */
  defaultValue: string | null;
  required: boolean;
  description: string;
  /** A section (an object): its fields follow. */
  section: boolean;
}

// zod v4 keeps a schema's kind and parts in `_zod.def`; only what this walker reads is typed here.
interface Def {
  type: string;
  innerType?: Schema; in?: Schema; out?: Schema; element?: Schema; valueType?: Schema; keyType?: Schema;
  options?: Schema[]; items?: Schema[]; entries?: Record<string, unknown>; values?: unknown[];
  shape?: Record<string, Schema>; defaultValue?: unknown; discriminator?: string;
  checks?: { _zod: { def: { check: string; value?: number; inclusive?: boolean; minimum?: number; maximum?: number; format?: string } } }[];
}
type Schema = z.ZodType & { _zod: { def: Def }; description?: string };

const def = (s: Schema): Def => s._zod.def;

const show = (v: unknown): string => (typeof v === 'string' ? (v === '' ? "''" : v) : JSON.stringify(v));

/** Wrappers that change neither the shape nor the type a person writes. */
function unwrap(s: Schema): { inner: Schema; description?: string; defaultValue?: unknown; hasDefault: boolean; optional: boolean } {
  let description = s.description;
  let defaultValue: unknown;
  let hasDefault = false;
  let optional = false;
  for (;;) {
    const d = def(s);
    if (d.type === 'default' || d.type === 'prefault') {
      hasDefault = true;
      defaultValue = typeof d.defaultValue === 'function' ? (d.defaultValue as () => unknown)() : d.defaultValue;
      s = d.innerType!;
    } else if (d.type === 'optional' || d.type === 'nullable' || d.type === 'readonly' || d.type === 'nonoptional') {
      optional ||= d.type === 'optional';
      s = d.innerType!;
    } else if (d.type === 'pipe') {
      s = def(d.in!).type === 'transform' ? d.out! : d.in!;
    } else break;
    description ??= s.description;
  }
  return { inner: s, description, defaultValue, hasDefault, optional };
}

function bounds(d: Def): string {
  const parts: string[] = [];
  for (const c of d.checks ?? []) {
    const k = c._zod.def;
    if (k.check === 'greater_than' && !(k.value === -Number.MAX_SAFE_INTEGER)) parts.push(`${k.inclusive ? '≥' : '>'} ${k.value}`);
    if (k.check === 'less_than' && !(k.value === Number.MAX_SAFE_INTEGER)) parts.push(`${k.inclusive ? '≤' : '<'} ${k.value}`);
    if (k.check === 'min_length' && k.minimum !== undefined && k.minimum > 0) parts.push(`at least ${k.minimum}`);
  }
  return parts.length ? ` ${parts.join(', ')}` : '';
}

/** The type as a person writes it: `integer ≥ 1`, `one of: constant | cosine`, `list of (+ | -)`; `inline` spells out a section. */
export function typeOf(s: Schema, inline = false): string {
  const { inner } = unwrap(s);
  const d = def(inner);
  switch (d.type) {
    case 'number': {
      const int = (d.checks ?? []).some((c) => c._zod.def.format === 'safeint' || c._zod.def.format === 'int32');
      return `${int ? 'integer' : 'number'}${bounds(d)}`;
    }
    case 'string': return `text${bounds(d)}`;
    case 'boolean': return 'true | false';
    case 'enum': return `one of: ${Object.values(d.entries ?? {}).map(show).join(' | ')}`;
    case 'literal': return (d.values ?? []).map(show).join(' | ');
    case 'array': return `list of (${typeOf(d.element!, true)})${bounds(d)}`;
    case 'tuple': return `[${(d.items ?? []).map((i) => typeOf(i, true)).join(', ')}]`;
    case 'record': return `map of ${typeOf(d.keyType!, true)} -> ${typeOf(d.valueType!, true)}`;
    case 'union': return d.discriminator ? `section chosen by ${d.discriminator}` : (d.options ?? []).map((o) => typeOf(o, true)).join(' | ');
    case 'object': return inline ? `{ ${Object.entries(d.shape ?? {}).map(([k, v]) => `${k}: ${typeOf(v, true)}`).join(', ')} }` : 'section';
    default: return d.type;
  }
}

/** Every field under `schema`, depth first, sections before their fields. */
export function schemaFields(schema: z.ZodType, prefix: string[] = []): FieldDoc[] {
  const out: FieldDoc[] = [];
  const { inner } = unwrap(schema as Schema);
  const d = def(inner);
  if (d.type === 'object') {
    for (const [key, field] of Object.entries(d.shape ?? {})) {
      const info = unwrap(field);
      const path = [...prefix, key];
      const fd = def(info.inner);
      const section = fd.type === 'object' || (fd.type === 'union' && !!fd.discriminator);
      out.push({
        path: path.join('.'), type: typeOf(field), required: !info.hasDefault && !info.optional,
        defaultValue: info.hasDefault && !section ? show(info.defaultValue) : null, description: info.description ?? '', section,
      });
      if (section) out.push(...schemaFields(info.inner, path));
    }
  } else if (d.type === 'union' && d.discriminator) {
    // Each variant's own fields, labelled by its discriminator value.
    for (const option of d.options ?? []) {
      const value = Object.values(def(unwrap(def(option).shape![d.discriminator]).inner).values ?? [])[0];
      const label = [...prefix.slice(0, -1), `${prefix.at(-1)}[${d.discriminator}=${String(value)}]`];
      out.push({ path: label.join('.'), type: 'section', required: false, defaultValue: null, description: option.description ?? '', section: true });
      out.push(...schemaFields(option, label).filter((f) => !f.path.endsWith(`.${d.discriminator}`)));
    }
  }
  return out;
}

/** Word-wrapped at `width`, each line after the first indented by `indent`. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => `${indent}${l}`);
}

/** The fields as text: `path: type = default` then the description, indented. */
export function formatFields(fields: FieldDoc[], width = 100): string {
  const out: string[] = [];
  for (const f of fields) {
    const depth = f.path.split('.').length - 1;
    const pad = '  '.repeat(depth);
    if (f.section) {
      out.push(`${pad}${f.path}:${f.type === 'section' ? '' : ` ${f.type}`}${f.required ? ' (required)' : ''}`);
    } else {
      out.push(`${pad}${f.path}: ${f.type}${f.required ? ' (required)' : f.defaultValue === null ? ' (optional)' : ` = ${f.defaultValue}`}`);
    }
    if (f.description) out.push(...wrap(f.description, width - pad.length - 4, `${pad}    `));
  }
  return `${out.join('\n')}\n`;
}
