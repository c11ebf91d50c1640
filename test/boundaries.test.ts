// Module boundaries: ground truth (src/bench, ../shared tables) stays out of everything but the
// command-line front ends, so the pipeline can never read the answers it is scored against; the
// core never imports the front ends or the GitHub toolkit; no module imports itself in a circle;
// and search spaces are plug-ins, reached through their registry (src/spaces/index.ts), so the
// core never names one.
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

/**
 * Core modules that still speak NB201's own types (Cell, Dataset, cell codes). Remove a file from
 * here when it stops importing src/spaces/nb201/; nothing may be added.
 * - devices/{design,features,latency-model,prior,synthetic}.ts are NB201's own latency model (its
 *   cell features, the synthetic-device prior over them, the I-optimal sample design): they are
 *   about NB201 cells by nature, as devices/layered-*.ts are about layered spaces. They stay here
 *   until a space reaches its latency model through the SearchSpace interface; moving them under
 *   spaces/nb201/ first would only make the pipeline import a space folder.
 */
const NB201_CORE_IMPORTS_BEING_CONVERTED = new Set([
  'devices/design.ts',
  'devices/features.ts',
  'devices/latency-model.ts',
  'devices/prior.ts',
  'devices/synthetic.ts',
]);

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

  const spaces = path.join(SRC, 'spaces');
  const spaceFolders = readdirSync(spaces, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.join(spaces, entry.name) + path.sep);
  const reachesIntoASpace = (file: string) =>
    imports(file).filter((target) => spaceFolders.some((folder) => target.startsWith(folder)));

  it('keeps space folders apart: a space imports no other space', () => {
    const offenders = files
      .filter((f) => spaceFolders.some((folder) => f.startsWith(folder)))
      .flatMap((f) =>
        reachesIntoASpace(f)
          .filter((target) => !target.startsWith(spaceFolders.find((folder) => f.startsWith(folder))!))
          .map((target) => `${path.relative(SRC, f)} -> ${path.relative(SRC, target)}`),
      );
    expect(offenders).toEqual([]);
  });

  it('keeps the core (devices, proxies, controller, search, pipeline, report) out of space folders', () => {
    const core = ['devices', 'proxies', 'controller', 'search', 'pipeline', 'report'];
    const offenders = files
      .filter((f) => core.some((folder) => path.relative(SRC, f).startsWith(folder)))
      .flatMap((f) =>
        reachesIntoASpace(f).map((target) => `${path.relative(SRC, f)} -> ${path.relative(SRC, target)}`),
      )
      .filter((edge) => !NB201_CORE_IMPORTS_BEING_CONVERTED.has(edge.split(' -> ')[0]!));
    expect(offenders).toEqual([]);
    // The list only shrinks: a file that no longer reaches into NB201 must leave it.
    const converted = [...NB201_CORE_IMPORTS_BEING_CONVERTED].filter(
      (relative) => reachesIntoASpace(path.join(SRC, relative)).length === 0,
    );
    expect(converted).toEqual([]);
  });

  it('reaches the FBNet and Macro spaces only through the registry', () => {
    const offenders = files
      .filter((f) => !f.startsWith(spaces + path.sep))
      .flatMap((f) =>
        reachesIntoASpace(f)
          .filter((target) => !target.includes(`${path.sep}nb201${path.sep}`))
          .map((target) => `${path.relative(SRC, f)} -> ${path.relative(SRC, target)}`),
      );
    expect(offenders).toEqual([]);
  });

  it('finds the modules it checks', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(files.some((f) => f.startsWith(bench))).toBe(true);
  });
});
