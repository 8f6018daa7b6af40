/**
 * A long-lived child process spoken to in JSON lines (one request per stdin line, one reply per
 * stdout line), so that a bench can interleave timings of two engines that each keep their model
 * warm between requests. stderr is kept for the error message when the child dies.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export class LineProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private stderr = '';
  private exited: Error | null = null;

  constructor(readonly label: string, cmd: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return; // library chatter on stdout
      this.waiting.shift()?.resolve(JSON.parse(line));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`${label} exited (${code ?? signal}): ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    });
  }

  request<T>(req: object): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin.write(`${JSON.stringify(req)}\n`);
    }).then((r) => {
      const err = (r as { error?: string }).error;
      if (err) throw new Error(`${this.label}: ${err}`);
      return r;
    });
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}
