/** The compute host's one memory budget, shared by its RL and preference sessions. */
import { describe, expect, it } from 'vitest';
import { MemoryBudget } from '../../engine/memory-budget.js';

describe('MemoryBudget', () => {
  it('evicts the least recently used entries, of any owner, until the total fits; the one just used stays', () => {
    const budget = new MemoryBudget(100);
    const evicted: string[] = [];
    const use = (key: string, bytes: number) => budget.use(key, bytes, () => evicted.push(key));
    use('rl:a', 40);
    use('pref:b', 40);
    use('rl:a', 40); // a is now the most recent
    use('pref:c', 40); // 120 > 100: b, the least recently used, goes
    expect(evicted).toEqual(['pref:b']);
    expect(budget.keys()).toEqual(['rl:a', 'pref:c']);
    use('rl:d', 150); // alone over the budget: every other entry goes, d stays
    expect(evicted).toEqual(['pref:b', 'rl:a', 'pref:c']);
    expect(budget.keys()).toEqual(['rl:d']);
    budget.forget('rl:d');
    expect(budget.keys()).toEqual([]);
  });
});
