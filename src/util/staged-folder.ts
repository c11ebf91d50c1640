// A report folder written whole or not at all. The work writes into a fresh sibling,
// `<folder>.partial`; on success the sibling is swapped in for the folder in one rename, so a
// folder never mixes files of two runs (a failed search used to replace samples.json and leave
// the old report.json beside it). On failure the folder is left as it was, the partial results
// stay in the sibling, and the error says where they are. A folder that holds other files than a
// report's (say `--out .`) is never replaced: the run's files are moved into it one by one, and the
// report files of an earlier run that this one did not write are removed.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, rmdirSync } from 'node:fs';
import path from 'node:path';

import { ensureWritableFolder } from './folders.js';
import { quotePath } from './quote.js';

/** The files a report folder may hold; any other file makes a folder the user's, not ours. */
export const REPORT_FOLDER_FILES: ReadonlySet<string> = new Set([
  'report.json',
  'report.md',
  'pareto.svg',
  'samples.json',
  'verified.json',
  'review.json',
]);

export class StagedFolder {
  private constructor(
    /** The folder the files end up in. */
    readonly target: string,
    /** Where the work writes them meanwhile. */
    readonly path: string,
    private readonly createdTarget: boolean,
  ) {}

  /**
   * Checks that `target` can be written (a UsageError naming `option` if not) and starts a fresh
   * `<target>.partial` beside it, replacing one a failed run left there.
   */
  static open(target: string, option: string): StagedFolder {
    const createdTarget = !existsSync(target);
    ensureWritableFolder(target, option);
    const staging = `${path.resolve(target)}.partial`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging);
    return new StagedFolder(target, staging, createdTarget);
  }

  /** Puts the staged files in place of the folder's; the staging folder is gone afterwards. */
  commit(): void {
    const target = path.resolve(this.target);
    const current = readdirSync(target);
    if (current.every((name) => REPORT_FOLDER_FILES.has(name))) {
      // Only a report of ours there (or nothing): swap the whole folder.
      const old = `${target}.old-${process.pid}`;
      renameSync(target, old);
      renameSync(this.path, target);
      rmSync(old, { recursive: true, force: true });
      return;
    }
    const staged = new Set(readdirSync(this.path));
    for (const name of current) {
      if (REPORT_FOLDER_FILES.has(name) && !staged.has(name))
        rmSync(path.join(target, name), { force: true });
    }
    for (const name of staged) renameSync(path.join(this.path, name), path.join(target, name));
    rmSync(this.path, { recursive: true, force: true });
  }

  /**
   * After a failure: the target stays as it was; the staging folder is kept if the work wrote
   * something, and `error`'s message then says where (unless it says so already).
   */
  abandon(error: unknown): void {
    const kept = existsSync(this.path) && readdirSync(this.path).length > 0;
    if (!kept) {
      rmSync(this.path, { recursive: true, force: true });
      const target = path.resolve(this.target);
      if (this.createdTarget && existsSync(target) && readdirSync(target).length === 0) rmdirSync(target);
      return;
    }
    if (error instanceof Error && !error.message.includes(this.path)) {
      error.message +=
        `; partial results are in ${quotePath(this.path)} ` + `(${quotePath(this.target)} is left as it was)`;
    }
  }

  /** Runs `work` in the staging folder, then commits, or abandons and rethrows. */
  async run<T>(work: (folder: string) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await work(this.path);
    } catch (error) {
      this.abandon(error);
      throw error;
    }
    this.commit();
    return result;
  }
}
