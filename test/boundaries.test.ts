// Module boundaries: ground truth (src/bench, ../shared tables) stays out of everything but the
// command-line front ends, so the pipeline can never read the answers it is scored against; the
// core never imports the front ends or the GitHub toolkit; and no module imports itself in a circle.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(path.join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [path.join(dir, entry.name)]
        : [],
  );
}

/** Relative import specifiers of a module, static and dynamic. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.[^'"]+)['"]/g)].map((m) =>
    path.resolve(path.dirname(file), m[1]!),
  );
}

describe('module boundaries', () => {
  const files = sourceFiles(SRC);
  const bench = path.join(SRC, 'bench');
  const frontEnds = [path.join(SRC, 'cli'), path.join(SRC, 'cli.ts')];

  it('keeps ground truth (src/bench) out of everything but the front ends', () => {
    const offenders = files
      .filter((f) => !f.startsWith(bench) && !frontEnds.some((fe) => f.startsWith(fe)))
      .filter((f) => imports(f).some((target) => target.startsWith(bench)))
      .map((f) => path.relative(SRC, f));
    expect(offenders).toEqual([]);
  });

  it('never points pipeline code at the shared benchmark tables', () => {
    const offenders = files
      .filter((f) => !f.startsWith(bench) && !frontEnds.some((fe) => f.startsWith(fe)))
      .filter((f) =>
        /shared\/data|nb201_(accuracy|cost|latency|proxies|hwnasbench)/.test(readFileSync(f, 'utf8')),
      )
      .map((f) => path.relative(SRC, f));
    expect(offenders).toEqual([]);
  });

  it('keeps the core free of @actions/* and of the front ends', () => {
    const frontEndFolders = [...frontEnds, path.join(SRC, 'action'), path.join(SRC, 'action.ts')];
    const isFrontEnd = (f: string) =>
      frontEndFolders.some((fe) => f === fe || f.startsWith(`${fe}${path.sep}`));
    const core = files.filter((f) => !isFrontEnd(f) && !f.startsWith(bench));
    const toolkit = core
      .filter((f) => /from\s+['"]@actions\//.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(SRC, f));
    expect(toolkit).toEqual([]);
    const upward = files
      .filter((f) => !isFrontEnd(f))
      .filter((f) => imports(f).some((target) => isFrontEnd(target.replace(/\.js$/, '.ts'))))
      .map((f) => path.relative(SRC, f));
    expect(upward).toEqual([]);
  });

  it('has no import cycles', () => {
    const graph = new Map(files.map((f) => [f, imports(f).map((t) => t.replace(/\.js$/, '.ts'))]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push(
          [...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(SRC, f)).join(' -> '),
        );
        return;
      }
      state.set(file, 'open');
      for (const target of graph.get(file) ?? []) visit(target, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('finds the modules it checks', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(files.some((f) => f.startsWith(bench))).toBe(true);
  });
});
