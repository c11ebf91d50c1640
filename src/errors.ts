// Error kinds that front ends translate into exit codes and messages. A UsageError means the user
// asked for something we cannot do as asked (bad argument, bad file, bad config): exit code 2.

export class UsageError extends Error {
  override name = 'UsageError';
}

/** The errno code of a failed system call (`ENOENT`, `EACCES`...), undefined for other errors. */
export function errnoCode(error: unknown): string | undefined {
  return error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
}

export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

/** Work stopped on request (Ctrl-C, SIGTERM) after saving what it had; rerunning resumes it. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
}

export const EXIT_INTERRUPTED = 130;
