/**
 * SPO-tree's rollout and values on the built-in policy (Guo et al., arXiv 2505.23564 §4.2; official
 * code `hybrid_inference_strategy.py`, `tree_episode_generator.py`; the math is in
 * losses/policy/spo.ts `spoTreeAdvantages`).
 *
 *  - Rollout: per prompt a tree with branching b_1 … b_D (D = depth). Every level but the last
 *    samples `segmentTokens` (M) tokens from each node of the level above; the last level samples
 *    freely to the end of the completion budget. A leaf is one completion; the group has Π b_d
 *    leaves, so a tree run samples as many completions per prompt as a chain or GRPO run with
 *    `rollout.groupSize` = Π b_d (the config checks this), with fewer generated tokens (prefixes
 *    are shared).
 *  - A node that finished (EOS or stop string) before the last level is not expanded: its
 *    descendants are copies of it with empty segments, so every group has Π b_d leaves and a
 *    copy's value equals its parent's (advantage 0, dropped like any zero-advantage edge).
 *  - Values: a leaf's value is its reward; a node's value is the mean of its children's (equal
 *    branching: the mean of the leaves below it), so no Monte Carlo continuations are sampled.
 *  - Segment advantages (the code's default "rloo" mode): A = V(child) − V(parent), shared by the
 *    segment's tokens. They are expressed as a chain over each leaf (cutpoints at its segment ends,
 *    values of the nodes on its path, V(s_0) = the root's value), so `spoChainAdvantages` gives
 *    them token by token and the update is the same as SPO-chain's.
 *  - Every edge trains once: a segment shared by several leaves trains in the first of them
 *    (`trainFrom`: the earlier tokens are another leaf's), and edges with A = 0 are left out
 *    (the code's `only_adv_greater_than_zero`, which tests ≠ 0). The probability mask
 *    (p_old < threshold) stays on, as the chain config the tree config inherits from sets it.
 */
import type { Rng } from '../common/rng.js';
import type { CausalLM } from '../models/causal-lm.js';
import { generate } from '../models/generate.js';
import type { PromptInput } from '../models/tokenizer.js';
import type { SpoValueRecord } from '../store/spo-values.js';
import type { RolloutBatch, RolloutItem } from './recipe.js';
import type { SpoSamplingOptions } from './spo.js';

/** The tree's shape; sampling as SPO-chain's (the last segment ends at maxNewTokens at the latest). */
export interface SpoTreeOptions extends SpoSamplingOptions {
  /** Children per node at each level; its length is the depth D. */
  branching: readonly number[];
  /** Tokens of every segment but the last (M). */
  segmentTokens: number;
}

/** Where a leaf sits in its prompt's tree. */
export interface SpoTreeLeaf {
  /** Child index at each level, root to leaf (length D). */
  path: number[];
  /** Index of the last token of each non-empty segment but the last, ascending. */
  segmentEnds: number[];
}

interface Node {
  promptIndex: number;
  path: number[];
  tokens: number[];
  logprobs: number[];
  entropies: number[];
  segmentEnds: number[];
  /** Emitted EOS or a stop string. */
  finished: boolean;
}

/** Π b_d leaves per prompt, consecutive per prompt, in depth-first (path) order. */
export function spoTreeRollout(model: CausalLM, prompts: PromptInput[], o: SpoTreeOptions): { batch: RolloutBatch; leaves: SpoTreeLeaf[] } {
  const depth = o.branching.length;
  if (depth < 1 || o.branching.some((b) => !(Number.isInteger(b) && b >= 1))) throw new Error(`spoTreeRollout: branching must be positive integers, got [${o.branching.join(', ')}]`);
  const promptTokens = prompts.map((p) => o.tokenizer.encodePrompt(p));
  let level: Node[] = prompts.map((_, i) => ({ promptIndex: i, path: [], tokens: [], logprobs: [], entropies: [], segmentEnds: [], finished: false }));
  const stop = o.stop?.length ? { stop: o.stop, decode: (ids: number[]) => o.tokenizer.decode(ids) } : {};
  for (let d = 0; d < depth; d++) {
    const last = d === depth - 1;
    const children: Node[] = [];
    const open: { child: Node; rng: Rng; budget: number }[] = [];
    for (const node of level) {
      for (let j = 0; j < o.branching[d]; j++) {
        const child: Node = { ...node, path: [...node.path, j], segmentEnds: [...node.segmentEnds] };
        children.push(child);
        const left = o.maxNewTokens - node.tokens.length;
        // One stream per node, named by its place in the tree: samples do not depend on batching.
        if (!node.finished && left > 0) open.push({ child, rng: o.rng.fork(`tree/${node.promptIndex}/${child.path.join('.')}`), budget: last ? left : Math.min(o.segmentTokens, left) });
      }
    }
    // Rows of one budget generate together (a shorter budget must not cut a longer one).
    const byBudget = new Map<number, typeof open>();
    for (const row of open) byBudget.set(row.budget, [...(byBudget.get(row.budget) ?? []), row]);
    for (const [budget, rows] of byBudget) {
      const gens = generate(model, rows.map((r) => [...promptTokens[r.child.promptIndex], ...r.child.tokens]), {
        maxNewTokens: budget, temperature: o.temperature, rng: rows.map((r) => r.rng), eosId: o.tokenizer.stopIds, padId: o.tokenizer.pad,
        topK: o.topK, topP: o.topP, ...stop,
      });
      gens.forEach((g, k) => {
        const c = rows[k].child;
        if (!last && g.tokens.length > 0 && !g.finished) c.segmentEnds.push(c.tokens.length + g.tokens.length - 1);
        c.tokens = [...c.tokens, ...g.tokens];
        c.logprobs = [...c.logprobs, ...g.logprobs];
        c.entropies = [...c.entropies, ...g.entropies];
        c.finished = g.finished;
      });
    }
    level = children;
  }
  const items: RolloutItem[] = level.map((n) => ({
    promptIndex: n.promptIndex, promptTokens: promptTokens[n.promptIndex], tokens: n.tokens, logprobs: n.logprobs, entropies: n.entropies,
    completion: o.tokenizer.decode(n.tokens), finished: n.finished,
  }));
  const groupSize = o.branching.reduce((a, b) => a * b, 1);
  return { batch: { groupSize, temperature: o.temperature, items }, leaves: level.map((n) => ({ path: n.path, segmentEnds: n.segmentEnds })) };
}

/** A tree-valued completion: its chain-form values (`SpoValueRecord`) and the first token it trains. */
export interface SpoTreeValueRecord extends SpoValueRecord {
  /** Tokens before this index belong to segments that train in an earlier leaf of the group. */
  trainFrom: number;
}

/**
 * Node values and each leaf's chain-form record, for the leaves of one or more groups (each group
 * the Π b_d leaves of one prompt, in `spoTreeRollout`'s order).
 * @param leaves  where each completion sits, with its id and token count
 * @param rewards the verifier reward of each completion
 */
export function spoTreeValues(leaves: (SpoTreeLeaf & { id: string; group: number; length: number })[], rewards: number[]): SpoTreeValueRecord[] {
  if (rewards.length !== leaves.length) throw new Error(`spoTreeValues: ${rewards.length} rewards for ${leaves.length} leaves`);
  // Sum and count of leaf rewards under every node, keyed by group and path prefix.
  const sums = new Map<string, { sum: number; n: number }>();
  const key = (group: number, path: number[]) => `${group}/${path.join('.')}`;
  leaves.forEach((leaf, i) => {
    for (let d = 0; d <= leaf.path.length; d++) {
      const k = key(leaf.group, leaf.path.slice(0, d));
      const s = sums.get(k) ?? { sum: 0, n: 0 };
      s.sum += rewards[i];
      s.n++;
      sums.set(k, s);
    }
  });
  const value = (group: number, path: number[]) => {
    const s = sums.get(key(group, path))!;
    return s.sum / s.n;
  };
  return leaves.map((leaf) => {
    // A segment trains in the first leaf below its node (every later path index 0). So this leaf
    // trains the segments from level L on, L the last level where its path index is not 0.
    const ownFrom = lastNonZeroLevel(leaf.path);
    return {
      id: leaf.id,
      cutpoints: leaf.segmentEnds,
      // The k-th segment end closes level k (a node that finished adds no more ends).
      values: leaf.segmentEnds.map((_, k) => value(leaf.group, leaf.path.slice(0, k + 1))),
      v0: value(leaf.group, []),
      trainFrom: segmentStart(leaf, ownFrom),
    };
  });
}

/** The last level whose path index is not 0 (0 when there is none). */
function lastNonZeroLevel(path: number[]): number {
  let level = 0;
  path.forEach((j, d) => { if (j !== 0) level = d; });
  return level;
}

/** Token index where the segment of `level` starts in this leaf (its length when that segment is empty). */
function segmentStart(leaf: SpoTreeLeaf & { length: number }, level: number): number {
  if (level === 0) return 0;
  // Segment `level` starts right after the end of segment level − 1, when that one has an end.
  return level - 1 < leaf.segmentEnds.length ? leaf.segmentEnds[level - 1] + 1 : leaf.length;
}
