// Runs the simnas CLI in-process, capturing what it prints, for tests of exit codes and messages.
import { vi } from 'vitest';

import { runCli } from '../../src/cli/program.js';
import { capture } from './capture.js';

/** The exit code, stderr and stdout of `simnas ...args`; the streams are restored afterwards. */
export async function runCliCaptured(
  ...args: string[]
): Promise<{ code: number; stderr: string; stdout: string }> {
  const stderr = capture(process.stderr);
  const stdout = capture(process.stdout);
  try {
    const code = await runCli(['node', 'simnas', ...args]);
    return { code, stderr: stderr(), stdout: stdout() };
  } finally {
    vi.restoreAllMocks();
  }
}
