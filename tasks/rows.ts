/**
 * The one kind of example an RL run knows: a row. A built-in task is a seeded generator of rows; a
 * user's data set is a JSONL file of rows, one a line:
 *
 *   {"id", "prompt" | "messages", "answer"?, "tests"?, "language"?, "verifier"?, "completion"?, ...}
 *
 * `prompt` is text, or chat messages (also accepted under `prompt`, as verl writes them); `answer`
 * the gold answer (a number is read as its text); `tests` the unit tests of a code row; `verifier`
 * the reward that scores this row instead of the config's mix; `completion` a demonstration for the
 * SFT warm start. Any other field is kept as it is (`extra`). Column names are mapped by the
 * config's `data.fields` (`{ prompt: question, answer: reward_model.ground_truth }`; a dotted name
 * reaches into nested objects).
 *
 * {@link parseRowsJsonl} reads every line and reports every bad one with its number (up to a cap),
 * so one pass over a file lists what to fix.
 */
import { readBoundedText } from '../common/bounded-file.js';
import { BOUNDS } from '../configs/bounds.js';
import type { ChatMessage, PromptInput } from '../models/tokenizer.js';
import type { CodeLanguage, CodeTest } from '../rewards/types.js';
import { DataError } from './data-error.js';
import { quoteField, readJsonlObjects } from './jsonl-lines.js';

export interface Row {
  id: string;
  prompt: PromptInput;
  answer?: string;
  tests?: CodeTest[];
  language?: CodeLanguage;
  verifier?: string;
  /** A demonstration: what the model should write after the prompt (EOS not included). */
  completion?: string;
  /** The line's other fields, kept for audit. */
  extra?: Record<string, unknown>;
}

/** The built-in model's alphabet for data files: printable ASCII, newline and tab. */
export const TEXT_ALPHABET = `${Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('')}\n\t`;

/** The row fields a data file's columns can be mapped to. */
export const ROW_FIELDS = ['id', 'prompt', 'messages', 'answer', 'tests', 'language', 'verifier', 'completion'] as const;
export type RowField = (typeof ROW_FIELDS)[number];
/** Row field -> the file's column name (a dotted name reaches into nested objects). */
export type FieldMap = Partial<Record<RowField, string>>;

/** Problems of a well-formed row against the run (tokenizer, context, rewards); empty when fine. */
export type RowCheck = (row: Row) => string[];

const MAX_PROBLEMS = 50;

/** A column's value: the key as written, else a path through nested objects. */
function column(record: Record<string, unknown>, name: string): { found: boolean; value: unknown } {
  if (Object.hasOwn(record, name)) return { found: true, value: record[name] };
  let at: unknown = record;
  for (const key of name.split('.')) {
    if (!at || typeof at !== 'object' || Array.isArray(at) || !Object.hasOwn(at, key)) return { found: false, value: undefined };
    at = (at as Record<string, unknown>)[key];
  }
  return { found: true, value: at };
}

const describe = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

/** Why `v` is not a list of chat messages, or null when it is one. */
export function messagesProblem(v: unknown): string | null {
  if (!Array.isArray(v) || v.length === 0) return `expected a non-empty list of {"role", "content"} messages, got ${describe(v)}`;
  const bad = v.findIndex((m) => !m || typeof m !== 'object' || typeof m.role !== 'string' || typeof m.content !== 'string');
  return bad < 0 ? null : `message ${bad + 1} is not {"role": string, "content": string}`;
}

function testsProblem(v: unknown): string | null {
  if (!Array.isArray(v)) return `expected a list of tests ({"assert"} or {"stdin"?, "stdout"}), got ${describe(v)}`;
  const bad = v.findIndex((t) => !t || typeof t !== 'object' || !(typeof t.assert === 'string' || (typeof t.stdout === 'string' && (t.stdin === undefined || typeof t.stdin === 'string'))));
  return bad < 0 ? null : `test ${bad + 1} is neither {"assert": string} nor {"stdin"?: string, "stdout": string}`;
}

/**
 * The row of one parsed line, or its problems (field names as the file spells them, after mapping).
 * Code rows' `language` defaults to python.
 */
export function rowFromRecord(record: Record<string, unknown>, fields: FieldMap = {}, defaultId?: string): { row: Row } | { problems: string[] } {
  const problems: string[] = [];
  const nameOf = (f: RowField) => fields[f] ?? f;
  const get = (f: RowField) => column(record, nameOf(f));
  const given = get('id');
  const id = !given.found && defaultId !== undefined ? { found: true, value: defaultId } : given;
  if (!id.found || id.value === '' || id.value === null) problems.push(`${nameOf('id')}: required field is missing`);
  else if (typeof id.value !== 'string' && typeof id.value !== 'number') problems.push(`${nameOf('id')}: expected a string or a number, got ${describe(id.value)}`);

  const prompt = get('prompt');
  const messages = get('messages');
  let promptValue: PromptInput | undefined;
  if (prompt.found && messages.found) problems.push(`give ${nameOf('prompt')} or ${nameOf('messages')}, not both`);
  else if (!prompt.found && !messages.found) problems.push(`neither ${nameOf('prompt')} nor ${nameOf('messages')} is given`);
  else if (prompt.found && typeof prompt.value === 'string') {
    if (prompt.value === '') problems.push(`${nameOf('prompt')}: must not be empty`);
    else promptValue = prompt.value;
  } else {
    const [name, value] = prompt.found ? [nameOf('prompt'), prompt.value] : [nameOf('messages'), messages.value];
    const problem = messagesProblem(value);
    if (problem) problems.push(`${name}: ${problem}`);
    else promptValue = (value as ChatMessage[]).map((m) => ({ role: m.role, content: m.content }));
  }

  const text = (f: RowField, allowNumber = false): string | undefined => {
    const { found, value } = get(f);
    if (!found || value === null) return undefined;
    if (typeof value === 'string') return value;
    if (allowNumber && typeof value === 'number' && Number.isFinite(value)) return String(value);
    problems.push(`${nameOf(f)}: expected ${allowNumber ? 'a string or a number' : 'a string'}, got ${describe(value)}`);
    return undefined;
  };
  const answer = text('answer', true);
  const verifier = text('verifier');
  const completion = text('completion');
  const language = text('language');
  if (language !== undefined && language !== 'python' && language !== 'javascript') problems.push(`${nameOf('language')}: expected python or javascript, got ${quoteField(language)}`);
  const tests = get('tests');
  if (tests.found && tests.value !== null) {
    const problem = testsProblem(tests.value);
    if (problem) problems.push(`${nameOf('tests')}: ${problem}`);
  }
  if (problems.length || promptValue === undefined) return { problems };

  const used = new Set(ROW_FIELDS.map(nameOf));
  const extra = Object.fromEntries(Object.entries(record).filter(([k]) => !used.has(k)));
  const hasTests = tests.found && tests.value !== null;
  const row: Row = {
    id: String(id.value),
    prompt: promptValue,
    ...(answer !== undefined ? { answer } : {}),
    ...(hasTests ? { tests: tests.value as CodeTest[], language: (language ?? 'python') as CodeLanguage } : language ? { language: language as CodeLanguage } : {}),
    ...(verifier !== undefined ? { verifier } : {}),
    ...(completion !== undefined ? { completion } : {}),
    ...(Object.keys(extra).length ? { extra } : {}),
  };
  return { row };
}

/**
 * Parse and check JSONL text: every line must be a JSON object making a row with an id unused so
 * far that passes `check`. Blank lines are skipped and still counted.
 * `idOptional`: a line without an id is `line-<n>` (demonstration files).
 * @throws DataError listing every bad line (`line 7: answer: expected a string or a number, got an array`)
 */
export function parseRowsJsonl(text: string, source: string, o: { fields?: FieldMap; check?: RowCheck; idOptional?: boolean } = {}): Row[] {
  const firstLine = new Map<string, number>();
  const { values: rows, problems } = readJsonlObjects<Row>(text, {
    maxProblems: MAX_PROBLEMS,
    expected: 'a JSON object',
    read: (record, line) => {
      const parsed = rowFromRecord(record, o.fields, o.idOptional ? `line-${line}` : undefined);
      if ('problems' in parsed) return parsed;
      const { row } = parsed;
      const lineProblems: string[] = [];
      const seen = firstLine.get(row.id);
      if (seen !== undefined) lineProblems.push(`id ${quoteField(row.id)} is already used on line ${seen}`);
      else firstLine.set(row.id, line);
      lineProblems.push(...(o.check?.(row) ?? []));
      return lineProblems.length ? { problems: lineProblems } : { value: row };
    },
  });
  if (problems.length === 0 && rows.length === 0) problems.push('no rows (the file is empty)');
  if (problems.length) throw new DataError(source, problems);
  return rows;
}

/** Read and check a JSONL file of rows (see {@link parseRowsJsonl}). */
export function loadRowsJsonl(path: string, o: Parameters<typeof parseRowsJsonl>[2] = {}): Row[] {
  let text: string;
  try {
    text = readBoundedText(path, BOUNDS.dataFileBytes.max, 'data file');
  } catch (err) {
    throw new DataError(path, [(err as Error).message]);
  }
  return parseRowsJsonl(text, path, o);
}

/** Rows as JSONL in the row schema's own field names (the run's copy of its data). */
export function rowsToJsonl(rows: readonly Row[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}
