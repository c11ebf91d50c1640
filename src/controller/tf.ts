// TensorFlow.js backend selection. The native @tensorflow/tfjs-node backend is an optional
// dependency (its install downloads libtensorflow, which fails on offline machines); without it we
// use the WebAssembly backend, which runs a small MLP about 8x faster than the pure-JS CPU backend,
// and the CPU backend as the last resort. All three give the same results up to float tolerance.
import { createRequire } from 'node:module';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs';

// Production mode from the first import: no debug checks, and no banner on stderr advising
// tfjs-node on the first tensor (its absence is expected offline; pretraining records the backend
// it used in the controller's metadata).
tf.enableProdMode();

export type TfBackendName = 'tensorflow' | 'wasm' | 'cpu';

let selected: Promise<TfBackendName> | undefined;

/** Initializes TensorFlow.js once per process; `preferred` forces a backend (tests, benchmarks). */
export function initTensorflow(preferred?: TfBackendName): Promise<TfBackendName> {
  selected ??= selectBackend(preferred);
  return selected;
}

async function selectBackend(preferred?: TfBackendName): Promise<TfBackendName> {
  const order: TfBackendName[] = preferred ? [preferred] : ['tensorflow', 'wasm', 'cpu'];
  for (const name of order) {
    if (await tryBackend(name)) return name;
  }
  throw new Error(`TensorFlow.js backend '${order.join("', '")}' could not be initialized`);
}

async function tryBackend(name: TfBackendName): Promise<boolean> {
  try {
    if (name === 'tensorflow') {
      // A string specifier keeps bundlers from resolving the optional package at build time.
      const nodeBackend = '@tensorflow/tfjs-node';
      await import(nodeBackend);
    } else if (name === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const require = createRequire(import.meta.url);
      const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
      wasm.setWasmPaths(`${path.join(wasmDir, 'dist')}${path.sep}`);
      // One thread: results must not depend on the runner's core count.
      wasm.setThreadsCount(1);
    }
    const ok = await tf.setBackend(name);
    if (!ok) return false;
    await tf.ready();
    return true;
  } catch {
    return false;
  }
}

export { tf };
