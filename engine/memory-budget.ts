/**
 * One memory budget for every model a compute host keeps resident, whatever kind of run owns it
 * (RL sessions, preference sessions): a least-recently-used list of entries with their sizes. Using
 * an entry makes it the most recent and evicts the least recently used others until the total fits;
 * the entry just used always stays, even alone over the budget (the run sessions refuse a run that
 * cannot fit alone before it starts: engine/run-memory.ts).
 *
 * An entry may also name `transient` bytes: what its steps need on top while they run (gradients,
 * activations, the rollout's KV cache). One step runs at a time on a host, so the total is the
 * resident bytes of every entry plus the largest transient need among them.
 */
export class MemoryBudget {
  private readonly entries = new Map<string, { bytes: number; transient: number; evict: () => void }>();

  constructor(readonly limitBytes: number) {}

  /** `key` was just used and now holds `bytes` (plus `transient` while it steps); `evict` frees it if the budget needs the room. */
  use(key: string, bytes: number, evict: () => void, transient = 0): void {
    this.entries.delete(key);
    this.entries.set(key, { bytes, transient, evict });
    const total = () => {
      let resident = 0;
      let peak = 0;
      for (const e of this.entries.values()) {
        resident += e.bytes;
        peak = Math.max(peak, e.transient);
      }
      return resident + peak;
    };
    for (const [other, entry] of this.entries) {
      if (total() <= this.limitBytes || other === key) break;
      this.entries.delete(other);
      entry.evict();
    }
  }

  /** `key` was freed by its owner (released, or dropped after a failed step). */
  forget(key: string): void {
    this.entries.delete(key);
  }

  /** Resident entries, least recently used first. */
  keys(): string[] {
    return [...this.entries.keys()];
  }
}

/**
 * One kind of run's resident sessions on a host, under the host's shared {@link MemoryBudget}:
 * `keep` after each use (which may evict other runs, of any kind), `drop` to free one.
 */
export class ResidentRuns<S> {
  private readonly sessions = new Map<string, S>();

  /**
   * @param kind     prefix of this kind's keys in the budget ('rl', 'pref')
   * @param bytesOf  resident bytes of a session (weights, optimizer moments, reference)
   * @param dispose  frees a session's tensors
   * @param transientOf  bytes a session's steps need on top while they run (default none)
   */
  constructor(
    private readonly budget: MemoryBudget,
    private readonly kind: string,
    private readonly bytesOf: (session: S) => number,
    private readonly dispose: (session: S) => void,
    private readonly transientOf: (session: S) => number = () => 0,
  ) {}

  get(runId: string): S | undefined {
    return this.sessions.get(runId);
  }

  has(runId: string): boolean {
    return this.sessions.has(runId);
  }

  /** Runs resident now, least recently used first. */
  runs(): string[] {
    return [...this.sessions.keys()];
  }

  /** The run was just used: most recent in the host's memory budget, which may evict other runs. */
  keep(runId: string, session: S): void {
    this.sessions.delete(runId);
    this.sessions.set(runId, session);
    this.budget.use(`${this.kind}:${runId}`, this.bytesOf(session), () => this.drop(runId, session), this.transientOf(session));
  }

  /** Free the session (evicted, released, or after a failed step); the run's current one by default. */
  drop(runId: string, session: S | undefined = this.sessions.get(runId)): void {
    if (session === undefined) return;
    if (this.sessions.get(runId) === session) {
      this.sessions.delete(runId);
      this.budget.forget(`${this.kind}:${runId}`);
    }
    this.dispose(session);
  }
}
