/** A random seed in [1, 2**31 - 1], as CAREamics' `generate_random_seed` draws when none is given. */
export function generateRandomSeed(): number {
  return 1 + Math.floor(Math.random() * (2 ** 31 - 1));
}
