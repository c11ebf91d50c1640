// Progress for long work: a live bar on an interactive terminal (cli-progress), otherwise a log
// line every few percent so CI logs show movement without flooding.
import { SingleBar } from 'cli-progress';

import type { Logger } from './log.js';

export interface Progress {
  /** Advance by `count` units, optionally naming what was just done. */
  tick(count?: number, detail?: string): void;
  done(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  logger: Logger;
  /** Force the bar on or off; default: on when stderr is a TTY. */
  interactive?: boolean;
}

export function createProgress({ label, total, logger, interactive }: ProgressOptions): Progress {
  const useBar = interactive ?? Boolean(process.stderr.isTTY);
  if (useBar) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted} {detail}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    });
    bar.start(total, 0, { detail: '' });
    return {
      tick: (count = 1, detail = '') => bar.increment(count, { detail }),
      done: () => bar.stop(),
    };
  }
  let value = 0;
  let lastLogged = -1;
  const step = Math.max(1, Math.ceil(total / 10));
  const started = Date.now();
  return {
    tick: (count = 1, detail = '') => {
      value += count;
      if (Math.floor(value / step) !== Math.floor(lastLogged / step) || value === total) {
        lastLogged = value;
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        logger.info(`${label}: ${value}/${total} (${seconds} s)${detail ? ` ${detail}` : ''}`);
      }
    },
    done: () => {},
  };
}
