/** Named errors of the objectives library. */

/** A loss, estimator or mask producer was asked for by a name that no registry holds. */
export class UnknownVariantError extends Error {
  override readonly name = 'UnknownVariantError';
  constructor(
    /** Which registry was searched, e.g. 'policy loss'. */
    readonly family: string,
    /** The name that was asked for. */
    readonly requested: string,
    /** Every valid name, in registry order. */
    readonly valid: readonly string[],
  ) {
    super(`unknown ${family} '${requested}'; valid names: ${valid.join(', ')}`);
  }
}

/** Inputs that cannot give a meaningful loss (wrong shapes, missing optional tensor, bad parameter). */
export class LossInputError extends Error {
  override readonly name = 'LossInputError';
  constructor(
    /** The loss or helper that rejected its input. */
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
  }
}
