/**
 * Run-ahead: the compute host works on a run's next steps before the workflow asks for them.
 *
 * Why: a demo iteration is ~0.4 s of model work, and every activity costs Temporal round trips
 * (schedule, poll, complete, workflow task: ~10-20 ms each on the dev server). Waiting for them in
 * between steps left the model idle for a quarter of the iteration. Every step is deterministic
 * (seeded by iteration) and idempotent (its output is a file; asking again returns the recorded
 * result), so the host may compute a step as soon as its inputs exist: when the workflow's request
 * arrives, it finds the output and returns at once. The round trips then overlap model work instead
 * of adding to it. Nothing about the result changes: the same files, bit for bit.
 *
 * Bounds: after a request of iteration i, the rest of iteration i and the next two iterations up to
 * the second one's update and its evaluation if due (the loop's order: rollout, score, SPO values
 * for objective spo, update, evaluate if due), never past the run's last iteration. A request
 * always goes before planned work; a step already running finishes first (one tensor op stream per
 * host). Scoring ahead happens only for cases
 * `verifyInline` may check on this thread; otherwise planning stops at the rollout and the cpu
 * worker's score activity does the rest, as without run-ahead. A planned step that fails is
 * forgotten: the workflow's own request repeats it and reports the error.
 */
import type { ExperimentConfig } from '../configs/schema.js';

/** A model step of the RL loop, keyed like its activity. */
export interface PlannedStep {
  op: 'warmStart' | 'rollout' | 'score' | 'spoValues' | 'update' | 'evaluate';
  iteration: number;
}

/**
 * How many iterations the host may run ahead of the workflow's newest request. One is not enough:
 * the workflow's request for update i waits behind the planned steps of iteration i+1, and once it is
 * answered the host would idle through the round trips until the request for rollout i+1 arrives
 * (~35 ms an iteration, measured). Two keeps the host busy; the workflow follows a step behind.
 * Must stay below store/weight-versions.ts VERSIONS_KEPT: a deeper host prunes the version the
 * workflow is about to checkpoint (tried with four: CheckpointError).
 */
export const AHEAD_ITERATIONS = 2;

/**
 * The steps that follow a completed request, in the workflow's order: the rest of the request's
 * iteration and the next AHEAD_ITERATIONS iterations up to and including the last one's update and
 * its evaluation if due (the end of the run at most). `op` is the request just served; `iteration`
 * its iteration (0 for the warm start).
 */
export function stepsAfter(op: string, iteration: number, config: ExperimentConfig): PlannedStep[] {
  const last = config.run.iterations;
  const loop = (i: number): PlannedStep[] => [
    { op: 'rollout', iteration: i },
    { op: 'score', iteration: i },
    // SPO's method step sits between score and update.
    ...(config.objective.name === 'spo' ? [{ op: 'spoValues' as const, iteration: i }] : []),
    { op: 'update', iteration: i },
    ...(i > 0 && (i % config.run.evalEvery === 0 || i === last) ? [{ op: 'evaluate' as const, iteration: i }] : []),
  ];
  if (iteration > last) return [];
  const steps: PlannedStep[] = op === 'warmStart' ? [{ op: 'warmStart', iteration: 0 }] : [];
  for (let i = Math.max(iteration, 1); i <= Math.min(iteration + AHEAD_ITERATIONS, last); i++) steps.push(...loop(i));
  const from = steps.findIndex((s) => s.op === op && s.iteration === iteration);
  if (from < 0) return [];
  const lastUpdate = steps.findIndex((s) => s.op === 'update' && s.iteration === iteration + AHEAD_ITERATIONS);
  if (lastUpdate < 0) return steps.slice(from + 1);
  // An evaluation due right after the last update is planned too: it reads the weights just made and
  // changes nothing, and without it the host idles until the workflow catches up (at a run's end,
  // ~150 ms on the demo).
  return steps.slice(from + 1, lastUpdate + (steps[lastUpdate + 1]?.op === 'evaluate' ? 2 : 1));
}

type Task = () => Promise<void>;

/**
 * The host's work queue: requests in arrival order, and when none waits, the runs' planned steps
 * (round robin across runs, one step at a time, so a request never waits for more than one).
 */
export class HostQueue {
  private readonly requests: Task[] = [];
  private readonly planned = new Map<string, Task[]>();
  private busy = false;

  /** A request from the worker: served before any planned step. */
  request(task: Task): void {
    this.requests.push(task);
    void this.pump();
  }

  /** Replace the run's planned steps (each task runs only if the previous ones did not stop it). */
  plan(runId: string, steps: Task[]): void {
    if (steps.length === 0) this.planned.delete(runId);
    else this.planned.set(runId, [...steps]);
    void this.pump();
  }

  /** Forget the run's planned steps (released, stopped, or a step could not be done ahead). */
  drop(runId: string): void {
    this.planned.delete(runId);
  }

  /** Resolves once nothing is queued or running (tests). */
  async idle(): Promise<void> {
    while (this.busy || this.requests.length > 0 || this.planned.size > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private nextPlanned(): Task | undefined {
    for (const [runId, steps] of this.planned) {
      const step = steps.shift();
      // Re-insert at the end: the next planned step comes from another run, if any has one.
      this.planned.delete(runId);
      if (steps.length > 0) this.planned.set(runId, steps);
      if (step) return step;
    }
    return undefined;
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let task = this.requests.shift() ?? this.nextPlanned(); task; task = this.requests.shift() ?? this.nextPlanned()) {
        await task();
        // Let queued messages in before choosing the next task. A task's awaits settle as microtasks,
        // so without this the loop would run every planned step before a request or notice that
        // arrived meanwhile is even read: the workflow's request waited behind up to two iterations
        // of planned work (~300 ms on the native backend, measured), and the host then idled at the
        // end of its plan until the workflow caught up.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.busy = false;
    }
  }
}

/** The model steps the host can run for a run (RunSessions). */
export interface StepRunner {
  /** Resolves once the output is computed, while it may still be being written. */
  computeRollout(args: StepArgs, progress: () => void): Promise<unknown>;
  spoValues(args: StepArgs, progress: () => void): Promise<unknown>;
  /** Resolves once the update is computed, while its version may still be being written. */
  computeUpdate(args: StepArgs, progress: () => void): Promise<unknown>;
  evaluate(args: StepArgs): Promise<unknown>;
  /** Score the iteration's rollout on this thread if every case may be (score-ahead.ts); true when scored. */
  scoreRollout(args: StepArgs): boolean;
  /** Whether the run's model is in memory. */
  isResident(runId: string): boolean;
}

interface StepArgs {
  runId: string;
  config: ExperimentConfig;
  runDir: string;
  iteration: number;
}

/** After serving request `op` of an RL run, plan the run's next steps on `queue`. */
export function planAhead(queue: HostQueue, runner: StepRunner, op: string, args: Omit<StepArgs, 'iteration'> & { iteration?: number }): void {
  const { runId, config, runDir } = args;
  if (!config || !('rollout' in config)) return; // not an RL run
  const noProgress = () => undefined;
  queue.plan(runId, stepsAfter(op, args.iteration ?? 0, config).map((step) => async () => {
    const stepArgs: StepArgs = { runId, config, runDir, iteration: step.iteration };
    // Work ahead only for runs in memory: loading an evicted run for a step nobody asked for yet
    // could evict another, and two runs under a tight memory budget would evict each other in turn.
    if (!runner.isResident(runId)) {
      queue.drop(runId);
      return;
    }
    try {
      // Nobody waits for a planned step's output: the host goes on while the writer thread writes it.
      if (step.op === 'rollout') await runner.computeRollout(stepArgs, noProgress);
      else if (step.op === 'spoValues') await runner.spoValues(stepArgs, noProgress);
      else if (step.op === 'update') await runner.computeUpdate(stepArgs, noProgress);
      else if (step.op === 'evaluate') await runner.evaluate(stepArgs);
      else if (step.op === 'score') {
        if (!runner.scoreRollout(stepArgs)) queue.drop(runId);
      }
    } catch {
      queue.drop(runId); // the workflow's own request repeats the step and reports the error
    }
  }));
}
