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

  it('counts the largest transient need of its entries once, on top of every resident size', () => {
    const budget = new MemoryBudget(100);
    const evicted: string[] = [];
    const use = (key: string, bytes: number, transient: number) => budget.use(key, bytes, () => evicted.push(key), transient);
    use('rl:a', 30, 30); // 60
    use('rl:b', 30, 40); // 30 + 30 + 40 = 100: fits
    expect(evicted).toEqual([]);
    use('rl:c', 10, 50); // 70 + 50 = 120: a goes (40 + 50 = 90)
    expect(evicted).toEqual(['rl:a']);
    expect(budget.keys()).toEqual(['rl:b', 'rl:c']);
  });
});
