/**
 * Seeded, serialisable pseudo-random numbers for every random draw in creditflow
 * (weight init, sampling, data order, dropout).
 *
 * Generator: xoshiro128** (Blackman & Vigna), 128-bit state held as four uint32 words, seeded
 * through splitmix32 so that nearby seeds give unrelated streams. Streams are derived from
 * (seed, name, iteration) by hashing, so "sampling at iteration 7" is the same numbers whether
 * or not the run was interrupted: resuming needs only the seed and the iteration, or
 * `getState()` for a stream consumed part-way.
 */

/** The serialised state of an {@link Rng}: four uint32 words. */
export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** 32-bit FNV-1a of a string, then avalanche-mixed. */
function hashString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

export class Rng {
  private s: RngState;

  /** A generator from a 32-bit seed (any number; it is reduced mod 2^32). */
  constructor(seed: number) {
    const sm = splitmix32(seed);
    this.s = [sm(), sm(), sm(), sm()];
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** A generator restored from a state taken with {@link getState}. */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  getState(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new Error(`Rng.setState: expected four uint32 words, got ${JSON.stringify(state)}`);
    }
    if ((state[0] | state[1] | state[2] | state[3]) === 0) throw new Error('Rng.setState: all-zero state');
    this.s = [state[0], state[1], state[2], state[3]];
  }

  /** Next uint32. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new Error(`Rng.int: n must be >= 1, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller; no cached spare, so the state alone determines the stream). */
  normal(): number {
    const u1 = 1 - this.next(); // (0, 1]
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** In-place Fisher–Yates shuffle; returns the array. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return a;
  }

  /** A child stream named `name`, derived from this generator's next output (consumes one draw). */
  fork(name: string): Rng {
    return new Rng(hashString(name, this.nextU32()));
  }
}

/**
 * The stream for one purpose at one iteration: `deriveRng(cfg.seed, 'rollout', 7)`. Pure function
 * of its arguments, so a resumed run draws exactly the numbers the uninterrupted one would.
 */
export function deriveRng(seed: number, name: string, iteration = 0): Rng {
  const h = hashString(`${name}#${iteration}`, hashString(String(seed >>> 0)));
  return new Rng(h);
}
