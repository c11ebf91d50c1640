// Error kinds that front ends translate into exit codes and messages. A UsageError means the user
// asked for something we cannot do as asked (bad argument, bad file, bad config): exit code 2.
import { quote } from './util/quote.js';

export class UsageError extends Error {
  override name = 'UsageError';
  /** Marks usage errors across bundles (the action's two bundles each have this class). */
  readonly usage = true;
}

/** Whether `error` is a UsageError or a subclass, from this bundle or another. */
export function isUsageError(error: unknown): boolean {
  return error instanceof Error && (error as { usage?: unknown }).usage === true;
}

/**
 * The refusal of a value the user gave: the value (quoted: cut and escaped), what is wrong with
 * it (`why`, may be empty) and what is accepted. Front ends prefix the option or input's name.
 */
export function invalidValue(text: string, why: string, accepted: string): UsageError {
  const found = text.trim() === '' ? 'an empty value' : quote(text);
  return new UsageError(`${found}${why ? ` ${why}` : ''}; expected ${accepted}`);
}

/**
 * A failure the message fully explains (a registry that cannot be reached, say) and that is not
 * the user's input: exit code 1 like any failure, but printed without a stack trace.
 */
export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
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
