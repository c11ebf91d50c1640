// Runs the built action (the file action.yml points to) in a child process the way a runner does:
// inputs as INPUT_* variables, a pull_request event file, output and summary files, and the
// runner's own GITHUB_/ACTIONS_/RUNNER_ variables removed so nothing leaks in from a real CI runner.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The entry action.yml declares (runs.main), resolved in this checkout. */
export function actionEntry(): string {
  const main = /^\s+main:\s*(\S+)\s*$/m.exec(readFileSync(path.join(ROOT, 'action.yml'), 'utf8'))?.[1];
  if (!main) throw new Error('action.yml declares no runs.main');
  return path.join(ROOT, main);
}

export interface PullRequestEvent {
  readonly repository: string;
  readonly number: number;
  /** The head repository; differs from `repository` for a fork. */
  readonly headRepository?: string;
  /** The base commit (a real one when the review reads the base from git). */
  readonly baseSha?: string;
}

export interface ActionRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly warnings: string[];
  readonly outputs: Record<string, string>;
  readonly summary: string;
  readonly wallMs: number;
}

/**
 * Writes the event file a runner would for a pull_request event and returns its path: the payload
 * of fixtures/events/pull_request.json with this event's repositories, number and base commit.
 */
export function writePullRequestEvent(folder: string, event: PullRequestEvent): string {
  const template = JSON.parse(
    readFileSync(path.join(ROOT, 'fixtures', 'events', 'pull_request.json'), 'utf8'),
  ) as {
    pull_request: { head: { repo: unknown }; base: { sha: string; repo: unknown } };
  };
  const repo = (fullName: string) => ({
    full_name: fullName,
    name: fullName.split('/')[1],
    owner: { login: fullName.split('/')[0] },
  });
  const payload = {
    ...template,
    number: event.number,
    pull_request: {
      ...template.pull_request,
      number: event.number,
      head: { ...template.pull_request.head, repo: repo(event.headRepository ?? event.repository) },
      base: {
        ...template.pull_request.base,
        sha: event.baseSha ?? template.pull_request.base.sha,
        repo: repo(event.repository),
      },
    },
    repository: repo(event.repository),
  };
  const file = path.join(folder, `event-${event.number}.json`);
  writeFileSync(file, JSON.stringify(payload));
  return file;
}

export async function runBuiltAction(options: {
  workspace: string;
  inputs: Record<string, string>;
  env: Record<string, string>;
  timeoutMs?: number;
}): Promise<ActionRun> {
  const { workspace } = options;
  const runnerFiles = path.join(
    workspace,
    '.runner',
    String(Date.now()) + Math.random().toString(16).slice(2),
  );
  mkdirSync(runnerFiles, { recursive: true });
  const outputFile = path.join(runnerFiles, 'output.txt');
  const summaryFile = path.join(runnerFiles, 'summary.md');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(GITHUB_|ACTIONS_|RUNNER_|INPUT_)/.test(name)),
  );
  const inputs = Object.fromEntries(
    Object.entries(options.inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value]),
  );
  const env = {
    ...inherited,
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: path.join(workspace, '.runner', 'temp'),
    ...inputs,
    ...options.env,
  };
  const started = performance.now();
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
    // Asynchronous: the loopback servers live in this process and must keep answering.
    execFile(
      process.execPath,
      [actionEntry()],
      { cwd: workspace, env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, out, err) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: `${out}${err}` }),
    );
  });
  const wallMs = performance.now() - started;
  const outputs: Record<string, string> = {};
  for (const match of readFileSync(outputFile, 'utf8').matchAll(/^(\S+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) {
    outputs[match[1]!] = match[3]!;
  }
  return {
    exitCode: code,
    stdout,
    warnings: stdout
      .split('\n')
      .filter((line) => line.startsWith('::warning::'))
      .map((line) => line.slice('::warning::'.length)),
    outputs,
    summary: readFileSync(summaryFile, 'utf8'),
    wallMs,
  };
}

/** Runs the built CLI (dist/cli.js, as the fork recipe's second workflow does) in a child process. */
export async function runBuiltCli(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(GITHUB_|ACTIONS_|RUNNER_|INPUT_)/.test(name)),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'dist', 'cli.js'), ...args],
      { env: { ...inherited, ...env }, timeout: 60_000 },
      (error, out, err) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${out}${err}` }),
    );
  });
}
