/**
 * Client-side failures of the `bucket` command and their exit codes: 1 when the Bucket refused or
 * could not be reached, 2 when the command line or the environment is wrong (nothing was sent).
 */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command line or the environment is wrong. */
export class UsageError extends Error {
  readonly exitCode = EXIT_USAGE;
}

/** The request could not be completed on the client side (connection, local file, integrity). */
export class CliError extends Error {
  readonly exitCode = EXIT_FAILURE;
}
