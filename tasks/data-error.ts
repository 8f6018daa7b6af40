/**
 * Bad data: a data file's bad lines, or a generated data set that cannot be made, each problem on a
 * line of its own. Its `name` is `DataError`, which the workflows treat as non-retryable: the run
 * fails before any compute and says what to fix.
 */
export class DataError extends Error {
  override name = 'DataError';
  constructor(public readonly source: string, public readonly problems: string[]) {
    super(`invalid data ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
