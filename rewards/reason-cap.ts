/**
 * Verdict reasons and extracted answers are stored in every rewards file and printed by
 * `creditflow verify`; a completion controls what they quote (a 100,000-digit boxed answer, a test's
 * endless output), so each is capped here, with its full length said, before it is kept anywhere.
 */

/** Longest reason kept in a verdict (rewards files, metrics, `creditflow verify`). */
export const MAX_REASON_CHARS = 200;

/** Longest extracted or gold answer quoted inside a reason or an explanation. */
export const SHOWN_ANSWER_CHARS = 60;

/**
 * `text` on one line, whitespace collapsed, at most `max` characters of it kept; a longer one ends
 * in `… (N characters)` with its full length, so a reader knows how much was left out.
 */
export function capText(text: string, max = MAX_REASON_CHARS): string {
  const one = text.replace(/\s+/g, ' ').trim();
  if (one.length <= max) return one;
  return `${one.slice(0, max)}… (${one.length.toLocaleString('en-US')} characters)`;
}
