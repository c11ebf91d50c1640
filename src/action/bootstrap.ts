// Entry of the action (action.yml runs dist/action.js on node24): makes sure the native
// onnxruntime-node package is installed beside the bundle, then loads and runs the action proper
// from a second bundle, which imports onnxruntime-node at load time.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as core from '@actions/core';

import { UsageError } from '../errors.js';
import { actionsLogger } from './logger.js';
import { ensureNativeDependencies } from './native-deps.js';

const actionRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// A variable specifier keeps the bundler from inlining the main bundle into this one.
const mainBundle = './action-main.js';

try {
  await core.group('simnas: native dependencies', async () => {
    const installed = await ensureNativeDependencies(actionRoot, {
      logger: actionsLogger,
      ...(process.env.SIMNAS_NPM_REGISTRY ? { registry: process.env.SIMNAS_NPM_REGISTRY } : {}),
    });
    core.info(installed.length > 0 ? `installed ${installed.join(', ')}` : 'onnxruntime-node is installed');
  });
  const { runAction } = (await import(mainBundle)) as { runAction: () => Promise<void> };
  await runAction();
} catch (error) {
  // Usage errors are the user's to fix: their message says what and how; anything else gets a stack.
  // By name: the main bundle has its own copy of the UsageError class.
  if (!(error instanceof Error)) core.setFailed(String(error));
  else core.setFailed(error.name === UsageError.name ? error.message : (error.stack ?? error.message));
}
// Everything is published and saved; a cache call abandoned after its time limit may still be
// retrying inside @actions/cache, and would keep the process alive (actions/cache exits so too).
process.exit();
