// Output paths checked before the work that fills them: a folder (or a file's folder) that cannot
// be created or written is refused with a UsageError naming the option, up front, rather than as
// a stack trace after minutes of measuring. Missing folders are created one level at a time from
// the first existing ancestor, after checking that ancestor is a writable folder: Node's recursive
// mkdir loops forever where a file system answers ENOENT for a folder whose parent exists (/proc).
import { accessSync, constants, mkdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';

import { errnoCode, UsageError } from '../errors.js';
import { quotePath } from '../util/quote.js';

/**
 * Creates `folder` (and any missing parents) now, or throws a UsageError saying why it cannot be
 * written, prefixed with `option` (e.g. `--out`). Same signature as the check in src/pipeline.ts.
 */
export function ensureWritableFolder(folder: string, option: string): void {
  if (folder.trim() === '') {
    throw new UsageError(`${option} is empty; expected a folder path, e.g. simnas-report`);
  }
  const problem = folderProblem(folder);
  if (problem) {
    throw new UsageError(
      `${option} ${quotePath(folder)}: cannot write there: ${problem}; pass a folder that can be created or written`,
    );
  }
}

/**
 * Makes sure `file` can be written: its folder exists or is created, and the file itself is not a
 * folder nor read-only. Throws a UsageError prefixed with `option` otherwise; writes nothing.
 */
export function ensureWritableFile(file: string, option: string): void {
  if (file.trim() === '') throw new UsageError(`${option} is empty; expected a file path, e.g. results.md`);
  const problem = fileProblem(file);
  if (problem) {
    throw new UsageError(
      `${option} ${quotePath(file)}: cannot write it: ${problem}; pass a file path in a folder that exists or can be created`,
    );
  }
}

function fileProblem(file: string): string | undefined {
  const target = path.resolve(file);
  const found = existing(target);
  if (typeof found === 'string') return found;
  if (found?.isDirectory()) return 'it is a folder, not a file';
  if (found) return writable(target, 'the file');
  return folderProblem(path.dirname(target));
}

/** Why `folder` cannot be written, creating it (and missing parents) if it can; undefined if fine. */
function folderProblem(folder: string): string | undefined {
  const missing: string[] = [];
  let probe = path.resolve(folder);
  let found = existing(probe);
  while (found === undefined) {
    missing.push(probe);
    const parent = path.dirname(probe);
    if (parent === probe) return `no part of the path exists`;
    probe = parent;
    found = existing(probe);
  }
  if (typeof found === 'string') return found;
  if (!found.isDirectory()) {
    return missing.length === 0
      ? `${quotePath(probe)} is a file, not a folder`
      : `${quotePath(probe)} is a file, so no folder can be created in it`;
  }
  const denied = writable(probe, `${quotePath(probe)}`);
  if (denied) return denied;
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (error) {
      // Another process may have created it meanwhile; that is as good as creating it.
      const now = existing(dir);
      if (errnoCode(error) === 'EEXIST' && typeof now === 'object' && now.isDirectory()) continue;
      return `cannot create ${quotePath(dir)} (${explain(error)})`;
    }
  }
  return undefined;
}

/** The path's stats; undefined when it (or a parent, as a file) does not exist; a reason otherwise. */
function existing(target: string): Stats | string | undefined {
  try {
    return statSync(target);
  } catch (error) {
    const code = errnoCode(error);
    // ENOTDIR: a parent is a file; walking up finds that file and says so.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    return `cannot look at ${quotePath(target)} (${explain(error)})`;
  }
}

function writable(target: string, what: string): string | undefined {
  try {
    accessSync(target, constants.W_OK);
    return undefined;
  } catch (error) {
    return `${what} is not writable (${explain(error)})`;
  }
}

/** A short reason: the errno code with a plain-words gloss for the common ones. */
function explain(error: unknown): string {
  const code = errnoCode(error);
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `${code}: permission denied`;
    case 'EROFS':
      return `${code}: read-only file system`;
    case 'ENOENT':
      // The parent exists (we just checked), so this file system does not take new folders.
      return `${code}: this file system does not allow creating folders here`;
    case 'ENOSPC':
      return `${code}: no space left on the device`;
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}
