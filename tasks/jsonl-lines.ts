/** Non-blank lines that must all fail to parse before a file is judged not to be JSONL at all. */
export const NOT_JSONL_AFTER = 20;

/**
 * Why a line is not JSON, without its content: V8's messages quote the start of the line, which for
 * a file that is not a data set (a path typo naming /etc/passwd) would print what it holds.
 */
function jsonProblem(err: Error): string {
  const at = /position (\d+)/.exec(err.message);
  if (at) return `not valid JSON (at character ${Number(at[1]) + 1})`;
  if (/Unexpected end/.test(err.message)) return 'not valid JSON (it ends early)';
  return 'not valid JSON';
}

/**
 * A value from a line, quoted in an error: at most `max` characters, with the full length said, so
 * that a huge id or field name cannot flood the message.
 */
export function quoteField(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? value : String(value);
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, max))}… (${text.length.toLocaleString('en-US')} characters)`;
}

/**
 * The line loop every JSONL data reader shares: each non-blank line must be a JSON object, which the
 * reader's `read` turns into a value or problems; every problem is kept with its line number, up to
 * `maxProblems` (then counted), so one pass over a file lists what to fix. Blank lines are skipped
 * and still counted.
 */
export function readJsonlObjects<T>(
  text: string,
  o: { maxProblems: number; expected: string; read: (record: Record<string, unknown>, line: number) => { value: T } | { problems: string[] } },
): { values: T[]; problems: string[] } {
  const values: T[] = [];
  const problems: string[] = [];
  let more = 0;
  const report = (line: number, message: string) => {
    if (problems.length < o.maxProblems) problems.push(`line ${line}: ${message}`);
    else more++;
  };
  // Counted until the first line that parses: a file whose first lines are all not JSON is not a
  // data set, and is refused with one problem instead of a problem per line.
  let unparsedLead = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const line = i + 1;
    if (!raw.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
      unparsedLead = -1;
    } catch (err) {
      if (unparsedLead >= 0 && ++unparsedLead === NOT_JSONL_AFTER) {
        return { values: [], problems: [`not a JSONL file: none of its first ${NOT_JSONL_AFTER} lines is JSON (lines 1-${line}); is the path right?`] };
      }
      report(line, jsonProblem(err as Error));
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      report(line, `expected ${o.expected}, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
      continue;
    }
    const read = o.read(value as Record<string, unknown>, line);
    if ('problems' in read) for (const p of read.problems) report(line, p);
    else values.push(read.value);
  }
  if (more > 0) problems.push(`… and ${more} more problem${more > 1 ? 's' : ''}`);
  return { values, problems };
}
