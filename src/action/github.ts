// The GitHub REST client of the action and `simnas comment`: @actions/github's Octokit with the
// two Octokit plugins GitHub recommends for API clients, @octokit/plugin-throttling (queues writes,
// waits out a primary or secondary rate limit, as a release matrix of many runners commenting on
// one pull request at once can hit) and @octokit/plugin-retry (retries server errors such as 502
// with a growing delay). Each wait is a warning in the log; a wait longer than RATE_LIMIT_WAIT_S
// is not waited out: the comment or check run is optional, so its caller warns and goes on.
import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';

import type { Logger } from '../util/log.js';

/** Retries of one request after a server error or a rate limit. */
export const GITHUB_RETRIES = 3;
/** The longest rate-limit wait worth a job's time (a secondary limit asks for 60 s at most). */
export const RATE_LIMIT_WAIT_S = 60;

export interface GithubClientOptions {
  /** API base URL; @actions/github's default (GITHUB_API_URL) when absent. */
  readonly baseUrl?: string;
  /**
   * Milliseconds per unit of delay: the retry plugin waits base x retries², the throttling plugin
   * base x the seconds GitHub asked for. 1000 on GitHub; tests pass a few ms.
   */
  readonly delayUnitMs?: number;
}

export function githubClient(token: string, logger: Logger, options: GithubClientOptions = {}) {
  const delayUnitMs = options.delayUnitMs ?? 1000;
  const waitOrGiveUp =
    (kind: string) =>
    (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
      const what = `${request.method} ${request.url}`;
      if (retryCount >= GITHUB_RETRIES || retryAfter > RATE_LIMIT_WAIT_S) {
        logger.warn(
          `GitHub ${kind} on ${what}: giving up (retry after ${retryAfter} s, tried ${retryCount + 1}x)`,
        );
        return false;
      }
      logger.warn(`GitHub ${kind} on ${what}: retrying after ${retryAfter} s`);
      return true;
    };
  return getOctokit(
    token,
    {
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      retry: { retries: GITHUB_RETRIES, retryAfterBaseValue: delayUnitMs },
      throttle: {
        retryAfterBaseValue: delayUnitMs,
        onRateLimit: waitOrGiveUp('rate limit'),
        onSecondaryRateLimit: waitOrGiveUp('secondary rate limit'),
      },
    },
    retry,
    throttling,
  );
}

export type GithubClient = ReturnType<typeof githubClient>;
