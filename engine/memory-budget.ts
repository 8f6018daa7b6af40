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
