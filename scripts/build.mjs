// Bundles the CLI and the action into dist/ with esbuild. Native and optional packages
// stay external: onnxruntime-node ships a platform binary and @tensorflow/tfjs-node may be absent.
import { build } from 'esbuild';

await build({
  // The action is two bundles: action.js installs onnxruntime-node if missing, then loads action-main.js.
  entryPoints: { cli: 'src/cli.ts', action: 'src/action/bootstrap.ts', 'action-main': 'src/action/main.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  external: ['onnxruntime-node', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm'],
  banner: {
    // Bundled CommonJS dependencies still call require(); give them one in the ESM bundle.
    js: "#!/usr/bin/env node\nimport { createRequire as __simnasCreateRequire } from 'node:module';\nconst require = __simnasCreateRequire(import.meta.url);",
  },
});
