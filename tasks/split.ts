/**
 * Which side of a generated data set's train / held-out split a problem falls on: decided by a hash
 * of (split seed, problem text) alone, so a problem stays on its side whatever else is drawn, and
 * runs with different seeds are evaluated on the same problems.
 */

/** 32-bit FNV-1a of a string, then avalanche-mixed. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** True for the held-out `fraction` of all problem texts. */
export function isHeldOutText(text: string, splitSeed: number, fraction: number): boolean {
  return hash32(`${splitSeed >>> 0}|${text}`) / 4294967296 < fraction;
}
