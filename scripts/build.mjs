// Bundles the CLI and the action into dist/ with esbuild, and writes dist/licenses.txt, the licence
// notices of every third-party package in the bundles (scripts/licenses.mjs). Native and optional
// packages stay external: onnxruntime-node ships a platform binary and @tensorflow/tfjs-node may be
// absent.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

import { build } from 'esbuild';

import { licensesPath, licensesText } from './licenses.mjs';

export const OUTDIR = 'dist';

/**
 * esbuild's options for dist/; `write: false` (tests) bundles in memory.
 * @param {import('esbuild').BuildOptions} [overrides]
 * @returns {import('esbuild').BuildOptions & { metafile: true }}
 */
export function buildOptions(overrides = {}) {
  return {
    // The action is two bundles: action.js installs onnxruntime-node if missing, then loads action-main.js.
    entryPoints: {
      cli: 'src/cli.ts',
      action: 'src/action/bootstrap.ts',
      'action-main': 'src/action/main.ts',
    },
    outdir: OUTDIR,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: false,
    // Licence comments are collected whole, per package, in dist/licenses.txt instead.
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    external: ['onnxruntime-node', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm'],
    banner: {
      // Bundled CommonJS dependencies still call require(); give them one in the ESM bundle.
      js: "#!/usr/bin/env node\nimport { createRequire as __simnasCreateRequire } from 'node:module';\nconst require = __simnasCreateRequire(import.meta.url);",
    },
    ...overrides,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await build(buildOptions());
  writeFileSync(licensesPath(OUTDIR), licensesText(result.metafile));
}
