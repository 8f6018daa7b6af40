/**
 * SPO-tree on the built-in policy: a tree of Π b_d leaves per prompt whose siblings share their
 * ancestors' segments; node values from the leaves' rewards; segment advantages V(child) − V(parent)
 * (objectives.md §5.2 worked example); every edge trains once, zero-advantage edges not at all.
 * npx vitest run test/tasks/spo-tree.test.ts
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveRng } from '../../common/rng.js';
import { spoTreeAdvantages } from '../../losses/index.js';
import { spoTreeRollout, spoTreeValues } from '../../tasks/spo-tree.js';
import { spoTokenAdvantages } from '../../tasks/spo.js';
import { treeTokenKeep } from '../../engine/spo-tree-step.js';
import { tinyModel, tok, useWasm } from '../models/helpers.js';

beforeAll(useWasm);

describe('spoTreeRollout', () => {
  it('samples Π b_d leaves per prompt; siblings share their ancestors\' segments; deterministic for a seed', () => {
    const model = tinyModel(5);
    // The assertions hold for nodes that finished early too: their copies share every token.
    const o = { branching: [2, 3], segmentTokens: 2, temperature: 1.5, maxNewTokens: 6, rng: deriveRng(3, 'tree'), tokenizer: tok };
    const { batch, leaves } = spoTreeRollout(model, ['1+2=', '13+4='], o);
    expect(batch.groupSize).toBe(6);
    expect(batch.items).toHaveLength(12);
    expect(leaves.map((l) => l.path.join('.')).slice(0, 6)).toEqual(['0.0', '0.1', '0.2', '1.0', '1.1', '1.2']);
    for (let g = 0; g < 2; g++) {
      const group = batch.items.slice(6 * g, 6 * g + 6);
      expect(group.every((it) => it.promptIndex === g && it.tokens.length <= 6)).toBe(true);
      for (const first of [0, 3]) {
        // the three leaves under one level-0 node share its segment (tokens and old log-probs)
        const seg = leaves[6 * g + first].segmentEnds.length > 0 ? leaves[6 * g + first].segmentEnds[0] + 1 : group[first].tokens.length;
        for (let j = 1; j < 3; j++) {
          expect(group[first + j].tokens.slice(0, seg)).toEqual(group[first].tokens.slice(0, seg));
          expect(group[first + j].logprobs.slice(0, seg)).toEqual(group[first].logprobs.slice(0, seg));
        }
        if (leaves[6 * g + first].segmentEnds.length > 0) expect(seg).toBe(2);
      }
      // the two level-0 nodes are different samples
      expect(group[0].tokens.slice(0, 2).join() === group[3].tokens.slice(0, 2).join() && group[0].logprobs[0] === group[3].logprobs[0]).toBe(false);
    }
    const again = spoTreeRollout(model, ['1+2=', '13+4='], { ...o, rng: deriveRng(3, 'tree') });
    expect(again.batch.items.map((it) => it.tokens)).toEqual(batch.items.map((it) => it.tokens));
    model.dispose();
  });
});

describe('spoTreeValues', () => {
  // §5.2: root with 2 children, each with 2 leaves; leaf rewards [[1, 0], [1, 1]]; 2 tokens per segment.
  const leaves = [[0, 0], [0, 1], [1, 0], [1, 1]].map((path, k) => ({ id: `l${k}`, group: 0, path, segmentEnds: [1], length: 4 }));
  const rewards = [1, 0, 1, 1];
  const values = spoTreeValues(leaves, rewards);
  const advantages = spoTokenAdvantages(leaves.map((l) => ({ id: l.id, tokens: [0, 0, 0, 0] })), rewards, new Map(values.map((v) => [v.id, v])));

  it('node values are means of their leaves; each segment gets V(child) − V(parent) (worked example)', () => {
    expect(values.map((v) => v.v0)).toEqual([0.75, 0.75, 0.75, 0.75]);
    expect(values.map((v) => v.values[0])).toEqual([0.5, 0.5, 1, 1]);
    expect(advantages).toEqual([[-0.25, -0.25, 0.5, 0.5], [-0.25, -0.25, -0.5, -0.5], [0.25, 0.25, 0, 0], [0.25, 0.25, 0, 0]]);
    // the same edges as losses/ spoTreeAdvantages on the tree itself
    const tree = spoTreeAdvantages({ children: [{ children: [{ reward: 1 }, { reward: 0 }] }, { children: [{ reward: 1 }, { reward: 1 }] }] });
    expect(tree.edges.map((e) => e.advantage)).toEqual([-0.25, 0.5, -0.5, 0.25]);
  });

  it('every edge trains once (shared segments in the first leaf below them), zero-advantage edges not at all', () => {
    expect(values.map((v) => v.trainFrom)).toEqual([0, 2, 0, 2]);
    const keep = treeTokenKeep(leaves.map((l) => l.id), advantages, new Map(values.map((v) => [v.id, v])));
    expect(keep).toEqual([[true, true, true, true], [false, false, true, true], [true, true, false, false], [false, false, false, false]]);
    // trained tokens × advantage: one segment per non-zero edge of spoTreeAdvantages
    const trained = keep.flatMap((row, k) => row.map((on, t) => (on ? advantages[k][t] : 0))).reduce((a, b) => a + b, 0);
    expect(trained).toBeCloseTo(2 * (-0.25 + 0.5 - 0.5 + 0.25), 10);
  });
});
