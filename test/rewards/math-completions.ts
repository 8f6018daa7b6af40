/**
 * Realistic completions, as an RL researcher's policy writes them (GSM8K, MATH, AIME, R1-style), in
 * ten final-answer formats, with the failure modes a verifier must not reward. Each row:
 * [completion, gold, expected, note, case flags / options]. `expected` is the mathematical truth under
 * the rules in rewards/README.md, not an output of the code. The reward bench scores math-verify on
 * the same rows (bench/rewards.ts).
 */
import type { MathOptions } from '../../rewards/index.js';

export type Expect = 'correct' | 'incorrect' | 'skipped' | 'error';
export interface RowFlags extends MathOptions { truncated?: boolean }
export type CompletionRow = [completion: string, gold: string, expected: Expect, note: string, flags?: RowFlags];

const GSM = 'Natalia sold 48 clips in April and half as many in May, so 48 / 2 = 24 clips in May.\nIn total she sold 48 + 24 = 72 clips.';
const MATH = 'We complete the square: $x^2 - 6x + 13 = (x-3)^2 + 4$, so the minimum value is $4$ at $x = 3$.';

export const COMPLETION_TABLE: CompletionRow[] = [
  // --- ten final-answer formats ---
  [`${GSM}\n#### 72`, '72', 'correct', 'GSM8K ####'],
  [`${GSM}\n#### 72`, '73', 'incorrect', 'GSM8K #### (wrong gold)'],
  [`${MATH} Thus the answer is $\\boxed{4}$.`, '4', 'correct', 'MATH \\boxed'],
  [`${MATH}\nFinal Answer: The final answer is $4$. I hope it is correct.`, '4', 'correct', 'Minerva final line'],
  [`${MATH}\nFinal Answer: The final answer is $78$. I hope it is correct.`, '4', 'incorrect', 'Minerva final line, wrong'],
  [`${GSM}\nThe answer is 72.`, '72', 'correct', '"The answer is"'],
  [`${GSM}\n\n**Answer:** 72`, '72', 'correct', 'markdown **Answer:**'],
  [`${GSM}\n\n**Answer:** 25`, '72', 'incorrect', 'markdown **Answer:**, wrong'],
  [`${GSM}\nAnswer: 72`, '72', 'correct', 'Answer:'],
  ['<think>48/2 = 24, 48 + 24 = 72</think>\n<answer>72</answer>', '72', 'correct', 'R1 <answer> tag'],
  ['<think>so it is \\boxed{70}... no, 48 + 24 = 72</think>\n<answer>\\boxed{72}</answer>', '72', 'correct', '<answer> with a box inside beats the earlier box'],
  ['<think>48 + 24 = 72</think>\n<answer>70</answer>', '72', 'incorrect', '<answer> tag, wrong'],
  [`${MATH}\n\nTherefore, the final answer is: $\\boxed{4}$. I hope it is correct.`, '4', 'correct', 'Llama "final answer is: $\\boxed{}$"'],
  ['Solving 2x + 3 = 13 gives\nx = 5', '5', 'correct', 'closing x = … line'],
  ['Solving 2x + 3 = 13 gives\nx = 6', '5', 'incorrect', 'closing x = … line, wrong'],
  ['The remainder is $\\boxed{025}$.', '25', 'correct', 'AIME three digits'],
  ['The remainder is $\\boxed{025}$.', '250', 'incorrect', 'AIME three digits, wrong'],
  // --- the last final answer counts ---
  ['First I get $\\boxed{12}$. Wait, I dropped a term; redoing it, the answer is 14.', '14', 'correct', 'self-correction after a box'],
  ['First I get $\\boxed{12}$. Wait, I dropped a term; redoing it, the answer is 14.', '12', 'incorrect', 'retracted box is not rewarded'],
  ['The answer is 12. Let me double-check... actually $\\boxed{14}$.', '14', 'correct', 'box after a phrase'],
  ['So \\boxed{7}, and checking again the answer is 8.', '7', 'incorrect', 'a later "answer is" retracts the box'],
  // --- answer spam and hedging ---
  ['It is one of \\boxed{165} \\boxed{180} \\boxed{195}.', '195', 'incorrect', 'answer spam'],
  ['\\boxed{165}, \\boxed{180}, or \\boxed{195}', '180', 'incorrect', 'answer spam with connectors'],
  ['The answer is 3 or 4.', '3', 'incorrect', 'hedging'],
  ['\\boxed{5} ... after checking, \\boxed{5}', '5', 'correct', 'the same box twice, far apart'],
  ['The roots are $\\boxed{2}$ and $\\boxed{3}$.', '\\boxed{2}, \\boxed{3}', 'correct', 'gold with several boxes is a list'],
  ['The roots are $\\boxed{3}$ and $\\boxed{2}$.', '\\boxed{2}, \\boxed{3}', 'correct', 'list order free'],
  ['The root is $\\boxed{3}$.', '\\boxed{2}, \\boxed{3}', 'incorrect', 'one of two gold boxes'],
  // --- cut off (truncated) ---
  ['Adding up, 48 + 24 = 72 and then we still need to subtract the', '72', 'incorrect', 'no marker, cut off', { truncated: true }],
  ['Adding up, $48 + 24 = 72$ and then we still need to subtract the', '72', 'incorrect', 'math span, cut off', { truncated: true, lastNumber: true }],
  ['So the answer is $\\boxed{72}$. Let me also verify by another met', '72', 'correct', 'marker written before the cut'],
  ['Adding up, $48 + 24 = 72$.', '72', 'correct', 'the same span, not cut off'],
  ['So far 48 + 24 = 72 and then', '72', 'correct', 'last number, opted in', { lastNumber: true }],
  ['So far 48 + 24 = 72 and then', '72', 'incorrect', 'last number is off by default'],
  // --- numbers in every spelling ---
  ['The population is $\\boxed{1,\\!000}$.', '1000', 'correct', '1,\\!000'],
  ['The population is $\\boxed{1{,}000}$.', '1000', 'correct', '1{,}000'],
  ['The population is $\\boxed{1\\,000}$.', '1000', 'correct', '1\\,000'],
  ['#### 1,000', '1000', 'correct', '1,000'],
  ['The population is $\\boxed{1{,}000}$.', '100', 'incorrect', 'thousands, wrong'],
  ['$\\boxed{1\\frac{1}{4}}$', '\\frac54', 'correct', 'mixed number'],
  ['$\\boxed{1\\frac{1}{4}}$', '\\frac14', 'incorrect', 'mixed number is not its fraction'],
  ['$\\boxed{2\\tfrac12}$', '2.5', 'correct', 'mixed number, \\tfrac'],
  ['$\\boxed{3.2 \\times 10^{4}}$', '32000', 'correct', 'scientific notation'],
  ['#### 1.5e-3', '0.0015', 'correct', 'e-notation'],
  ['$\\boxed{0.333}$', '\\frac13', 'incorrect', 'a rounded decimal is outside the tolerance'],
  ['$\\boxed{0.3333333}$', '\\frac13', 'correct', 'within rtol 1e-6'],
  ['$\\boxed{25\\%}$', '0.25', 'correct', 'percent as a fraction'],
  ['$\\boxed{25\\%}$', '25', 'correct', 'percent sign dropped (gold written without it)'],
  ['$\\boxed{2.5\\%}$', '0.25', 'incorrect', 'percent, wrong'],
  ['#### $18.00', '18', 'correct', 'currency'],
  ['The total is $\\boxed{\\$18}$ dollars.', '18', 'correct', 'currency in box'],
  ['The area is $\\boxed{12 \\text{ square meters}}$.', '12', 'correct', 'unit phrase'],
  ['The area is $\\boxed{12\\,\\text{cm}^2}$.', '12', 'correct', 'unit with exponent'],
  ['The area is $\\boxed{13\\,\\text{cm}^2}$.', '12', 'incorrect', 'unit, wrong number'],
  ['The angle is $\\boxed{30^\\circ}$.', '30', 'correct', 'degrees'],
  ['The angle is $\\boxed{45^{\\circ}}$.', '30', 'incorrect', 'degrees, wrong'],
  ['$\\boxed{2\\pi}$', '6.283185307', 'correct', 'multiple of pi'],
  ['$\\boxed{\\frac{3\\pi}{2}}$', '\\frac{\\pi}{2}', 'incorrect', 'multiple of pi, wrong'],
  // --- structure ---
  ['$\\boxed{\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}}$', '\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}', 'correct', 'bmatrix = pmatrix'],
  ['$\\boxed{\\begin{bmatrix} 1 & 2 \\\\ 3 & 5 \\end{bmatrix}}$', '\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}', 'incorrect', 'matrix, one entry wrong'],
  ['$\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}$', '\\begin{pmatrix} 1 & 2 \\end{pmatrix}', 'incorrect', 'column vs row vector'],
  ['The solution set is $x > 2$.', '(2,\\infty)', 'correct', 'inequality vs interval'],
  ['The solution set is $x \\ge 2$.', '(2,\\infty)', 'incorrect', 'closed vs open end'],
  ['$\\boxed{(-\\infty, -1) \\cup (1, \\infty)}$', '|x| > 1', 'correct', 'union vs |x| relation'],
  ['$\\boxed{[-3, 3]}$', 'x^2 \\le 9', 'correct', 'interval vs quadratic relation'],
  ['$\\boxed{[-3, 3)}$', 'x^2 \\le 9', 'incorrect', 'interval vs quadratic relation, wrong end'],
  ['$\\boxed{y = 2x + 3}$', '2x - y + 3 = 0', 'correct', 'equation, both sides'],
  ['$\\boxed{y = 2x + 4}$', '2x - y + 3 = 0', 'incorrect', 'equation, wrong'],
  ['$\\boxed{\\{1, 2, 3\\}}$', '\\{3, 2, 1\\}', 'correct', 'set'],
  ['$\\boxed{(1, 2)}$', '(2, 1)', 'incorrect', 'ordered pair'],
  ['$\\boxed{[0, 1)}$', '[0, 1]', 'incorrect', 'interval ends'],
  ['The answer is $\\boxed{(B)}$.', 'B', 'correct', 'multiple choice'],
  ['The answer is \\textbf{(B)}.', 'B', 'correct', 'multiple choice, bold'],
  ['The answer is $\\boxed{C}$.', 'B', 'incorrect', 'multiple choice, wrong'],
  ['The day is $\\boxed{\\text{Tuesday}}$.', 'Tuesday', 'correct', 'text answer'],
  ['The day is $\\boxed{\\text{Monday}}$.', 'Tuesday', 'incorrect', 'text answer, wrong'],
  ['So $x=\\sqrt{2}$.', '2', 'incorrect', 'a LaTeX answer is not its last number'],
  ['So $x=\\sqrt{2}$.', '\\sqrt{2}', 'correct', 'LaTeX span without a marker'],
];
