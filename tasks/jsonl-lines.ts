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
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (!raw.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      report(line, `not valid JSON (${(err as Error).message})`);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      report(line, `expected ${o.expected}, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
      return;
    }
    const read = o.read(value as Record<string, unknown>, line);
    if ('problems' in read) for (const p of read.problems) report(line, p);
    else values.push(read.value);
  });
  if (more > 0) problems.push(`… and ${more} more problem${more > 1 ? 's' : ''}`);
  return { values, problems };
}
