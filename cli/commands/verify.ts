/**
 * `creditflow verify [--input FILE] [--concurrency N] [--timeout MS] [--explain] [--isolation]`
 *
 * Reads JSONL cases (from --input or stdin), one a line:
 *   {"id", "verifier": "math" | "code" | …, "completion", "gold", "tests"?, "language"?, "truncated"?}
 * and writes one JSONL line per case to stdout, in input order: {"id", "status", "score", "reason"}.
 * `--explain` adds, for every math check in the case's verifier, what was extracted by which rule,
 * how both answers were read and how they were compared:
 *   "explain": [{"part", "rule", "extracted", "answer", "gold", "goldRule", "comparison"}]
 * A malformed line yields {"id": null, "line": N, "status": "error", "reason": "line N: …"} and
 * the exit code 2; otherwise 0. A summary by status goes to stderr. `--isolation` prints what the
 * code sandbox can enforce on this machine and exits.
 *
 * Input is processed in blocks of 2000 lines so that a large dump is never held whole in memory.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { z } from 'zod';
import { verifyBatch, shutdownVerifiers, probeIsolation, explainMath, resolveSpec, type VerifyCase, type VerifierSpec, type MathOptions } from '../../rewards/index.js';
import { parseCommandLine, UsageError, type Options } from '../program.js';

export interface VerifyIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

const testSchema = z.union([
  z.object({ stdin: z.string().optional(), stdout: z.string() }),
  z.object({ assert: z.string() }),
]);
const caseSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  verifier: z.string().min(1),
  completion: z.string(),
  gold: z.string().default(''),
  tests: z.array(testSchema).optional(),
  language: z.enum(['javascript', 'python']).optional(),
  truncated: z.boolean().optional(),
});

const BLOCK = 2000;

interface Args { input?: string; concurrency?: number; timeout?: number; isolation?: boolean; explain?: boolean }

/** The command line, parsed by the `verify` definition in cli/program.ts; a usage error is a message. */
function parseArgs(argv: string[], io: VerifyIo): Args | 'help' | string {
  try {
    const parsed = parseCommandLine(['verify', ...argv], { out: (s) => io.stdout.write(s), err: (s) => io.stderr.write(s) });
    return parsed ? parsed.options as Args : 'help';
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
}

type Entry = { line: number; case: VerifyCase } | { line: number; error: string };

/** Every math check inside a verifier spec, with where it sits (`math`, `part 2: math`). */
function mathParts(spec: VerifierSpec, where = 'math'): Array<{ where: string; opts: MathOptions }> {
  if (spec.kind === 'math') return [{ where, opts: spec }];
  if (spec.kind !== 'compose') return [];
  return spec.parts.flatMap((p, k) => mathParts(p.spec, `part ${k + 1}: ${p.spec.kind}`));
}

/** The audit trail of a case's math checks (run here, on this thread: the guards in equal.ts bound them). */
function explain(c: VerifyCase): object[] {
  let spec: VerifierSpec;
  try { spec = resolveSpec(c.verifier); } catch { return []; }
  return mathParts(spec).map(({ where, opts }) => {
    const e = explainMath(c.completion, c.gold, opts, { truncated: c.truncated });
    return {
      part: where,
      rule: e.answer?.rule ?? null,
      extracted: e.answer?.text ?? null,
      answer: e.answer?.parsed ?? null,
      gold: e.gold.parsed ?? e.gold.text,
      goldRule: e.gold.rule,
      comparison: e.comparison,
    };
  });
}

function parseLine(text: string, line: number): Entry {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { line, error: `line ${line}: invalid JSON: ${(e as Error).message}` };
  }
  const r = caseSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { line, error: `line ${line}: ${issue.path.join('.') || '(root)'}: ${issue.message}` };
  }
  return { line, case: r.data };
}

const processIo = (): VerifyIo => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });

/** From a command line (tests; running this file by itself). */
export async function run(argv: string[], io: VerifyIo = processIo()): Promise<number> {
  const args = parseArgs(argv, io);
  if (args === 'help') return 0;
  if (typeof args === 'string') { io.stderr.write(`creditflow verify: ${args}\n`); return 64; }
  return verify(args, io);
}

/** `creditflow verify`, its options parsed by cli/main.ts. */
export const execute = (_args: unknown[], options: Options) => verify(options as Args, processIo());

async function verify(args: Args, io: VerifyIo): Promise<number> {
  if (args.isolation) { io.stdout.write(`${JSON.stringify(probeIsolation(), null, 2)}\n`); return 0; }

  let input: Readable;
  if (args.input) {
    input = createReadStream(args.input);
    const opened = await new Promise<Error | null>((res) => { input.once('open', () => res(null)); input.once('error', res); });
    if (opened) { io.stderr.write(`creditflow verify: cannot read ${args.input}: ${opened.message}\n`); return 66; }
  } else input = io.stdin;

  const counts: Record<string, number> = {};
  let malformed = 0;
  const write = (o: object) => new Promise<void>((res) => { if (io.stdout.write(`${JSON.stringify(o)}\n`)) res(); else io.stdout.once('drain', res); });

  const flush = async (entries: Entry[]) => {
    const cases = entries.flatMap((e) => ('case' in e ? [e.case] : []));
    const results = await verifyBatch(cases, { concurrency: args.concurrency, timeoutMs: args.timeout });
    let k = 0;
    for (const e of entries) {
      if ('error' in e) {
        malformed++;
        counts.error = (counts.error ?? 0) + 1;
        await write({ id: null, line: e.line, status: 'error', score: 0, reason: e.error });
        continue;
      }
      const r = results[k++];
      counts[r.status] = (counts[r.status] ?? 0) + 1;
      await write({ id: r.id, status: r.status, score: r.score, reason: r.reason, ...(args.explain && 'case' in e ? { explain: explain(e.case) } : {}) });
    }
  };

  try {
    let block: Entry[] = [];
    let line = 0;
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      line++;
      if (text.trim() === '') continue;
      block.push(parseLine(text, line));
      if (block.length >= BLOCK) { await flush(block); block = []; }
    }
    if (block.length) await flush(block);
  } finally {
    await shutdownVerifiers();
  }
  io.stderr.write(`verify: ${Object.entries(counts).map(([s, n]) => `${s}=${n}`).join(' ') || 'no cases'}${malformed ? ` (${malformed} malformed line(s))` : ''}\n`);
  return malformed > 0 ? 2 : 0;
}

// Runnable by itself: `node --import tsx cli/commands/verify.ts --input dump.jsonl`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    process.stderr.write(`creditflow verify: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  });
}
