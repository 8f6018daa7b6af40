/**
 * One memory budget for every model a compute host keeps resident, whatever kind of run owns it
 * (RL sessions, preference sessions): a least-recently-used list of entries with their sizes. Using
 * an entry makes it the most recent and evicts the least recently used others until the total fits;
 * the entry just used always stays, even alone over the budget.
 */
export class MemoryBudget {
  private readonly entries = new Map<string, { bytes: number; evict: () => void }>();

  constructor(readonly limitBytes: number) {}

  /** `key` was just used and now holds `bytes`; `evict` frees it if the budget needs the room. */
  use(key: string, bytes: number, evict: () => void): void {
    this.entries.delete(key);
    this.entries.set(key, { bytes, evict });
    let total = [...this.entries.values()].reduce((a, e) => a + e.bytes, 0);
    for (const [other, entry] of this.entries) {
      if (total <= this.limitBytes || other === key) break;
      total -= entry.bytes;
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
   */
  constructor(
    private readonly budget: MemoryBudget,
    private readonly kind: string,
    private readonly bytesOf: (session: S) => number,
    private readonly dispose: (session: S) => void,
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
    this.budget.use(`${this.kind}:${runId}`, this.bytesOf(session), () => this.drop(runId, session));
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
