// dist/licenses.txt lists the licence notices of exactly the third-party packages in the bundles:
// rebuilt in memory here, it must equal the file beside the bundles (npm run build rewrites both;
// the check-dist workflow also fails when the committed dist/ differs from a fresh build).
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

import { ROOT } from '../scripts/action-docs.js';
import { buildOptions, OUTDIR } from '../scripts/build.mjs';
import { bundledPackages, licensesPath, licensesText } from '../scripts/licenses.mjs';

describe('bundled licence notices', () => {
  it('dist/licenses.txt is current with the bundles (run npm run build)', async () => {
    const result = await build(buildOptions({ write: false, absWorkingDir: ROOT, logLevel: 'silent' }));
    const expected = licensesText(result.metafile, ROOT);
    const shipped = readFileSync(path.join(ROOT, licensesPath(OUTDIR)), 'utf8');
    expect(shipped === expected, 'dist/licenses.txt is stale: run npm run build').toBe(true);
    // The packages the action talks to GitHub with are among them, each with its licence text.
    const names = bundledPackages(result.metafile, ROOT).map((pkg) => pkg.name);
    expect(names).toEqual(expect.arrayContaining(['@actions/core', '@actions/github', 'zod']));
    expect(shipped).toContain('Permission is hereby granted, free of charge');
  });

  it('attributes nested and scoped package files to their own package', () => {
    const metafile = {
      inputs: {
        'src/cli.ts': {},
        'node_modules/@actions/core/lib/core.js': {},
        'node_modules/@actions/github/node_modules/@actions/http-client/lib/index.js': {},
        'node_modules/zod/v4/index.js': {},
      },
    };
    const packages = bundledPackages(metafile, ROOT);
    expect(packages.map((pkg) => pkg.name)).toEqual(
      expect.arrayContaining(['@actions/core', '@actions/http-client', 'zod']),
    );
    expect(packages.every((pkg) => pkg.notices.length > 0 || pkg.license)).toBe(true);
  });
});
