// Entry of the action (action.yml runs dist/action.js on node24): parses and checks every input
// first, then makes sure the native onnxruntime-node package is installed beside the bundle, then
// loads and runs the action proper from a second bundle, which imports onnxruntime-node at load
// time. A bad input is reported before anything is downloaded, fingerprinted or measured.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as core from '@actions/core';

import { EnvironmentError, EXIT_USAGE, isUsageError } from '../errors.js';
import { boundedMessage } from '../util/quote.js';
import type { ActionSettings } from './inputs.js';
import { prepareActionSettings } from './inputs.js';
import { actionsLogger } from './logger.js';
import { ensureNativeDependencies } from './native-deps.js';

const actionRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// A variable specifier keeps the bundler from inlining the main bundle into this one.
const mainBundle = './action-main.js';

try {
  const settings = prepareActionSettings((name) => core.getInput(name));
  await core.group('simnas: native dependencies', async () => {
    const installed = await ensureNativeDependencies(actionRoot, {
      logger: actionsLogger,
      ...(process.env.SIMNAS_NPM_REGISTRY ? { registry: process.env.SIMNAS_NPM_REGISTRY } : {}),
    });
    core.info(installed.length > 0 ? `installed ${installed.join(', ')}` : 'onnxruntime-node is installed');
  });
  const { runAction } = (await import(mainBundle)) as {
    runAction: (logger: typeof actionsLogger, settings: ActionSettings) => Promise<void>;
  };
  await runAction(actionsLogger, settings);
} catch (error) {
  // Usage errors are the user's to fix, and environment errors say all there is: their message
  // says what and how (exit code 2 for usage, as the CLI); anything else gets a stack. Not by
  // class: the main bundle has its own copies of the error classes.
  if (!(error instanceof Error)) {
    core.setFailed(String(error));
  } else if (isUsageError(error) || error.name === EnvironmentError.name) {
    core.setFailed(boundedMessage(error.message));
    if (isUsageError(error)) process.exitCode = EXIT_USAGE;
  } else {
    core.setFailed(error.stack ?? error.message);
  }
}
// Everything is published and saved; a cache call abandoned after its time limit may still be
// retrying inside @actions/cache, and would keep the process alive (actions/cache exits so too).
process.exit();
