// The simnas command tree. Commands register themselves from their own modules; this file owns
// the shared conventions: `--json` output, exit code 2 for usage errors, 1 for failures.
import { Command, CommanderError, InvalidArgumentError } from 'commander';

import {
  EnvironmentError,
  EXIT_FAILURE,
  EXIT_INTERRUPTED,
  EXIT_USAGE,
  InterruptedError,
  UsageError,
} from '../errors.js';
import { boundedMessage } from '../util/quote.js';
import { SIMNAS_VERSION } from '../version.js';
import { registerAggregateCommands } from './aggregate-commands.js';
import { registerCommentCommands } from './comment-commands.js';
import { registerDevicesCommands } from './devices-commands.js';
import { registerHardwareCommands } from './hardware-commands.js';
import { registerOnnxCommands } from './onnx-commands.js';
import { registerProxiesCommands } from './proxies-commands.js';
import { registerReviewCommands } from './review-commands.js';
import { registerSearchCommands } from './search-commands.js';
import { registerSpaceCommands } from './space-commands.js';

export function buildProgram(): Command {
  const program = new Command('simnas')
    .description('Hardware-aware neural architecture search with synthetic devices (Sim-is-More)')
    .version(SIMNAS_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    // Commander's own refusals (an unknown option or command) echo what was typed: escaped and cut.
    .configureOutput({ outputError: (text, write) => write(`${boundedMessage(text.trimEnd())}\n`) })
    .exitOverride();
  const bench = program
    .command('bench')
    .description('benchmarks that print measured figures (some read ground-truth tables)');
  registerSpaceCommands(program);
  registerOnnxCommands(program, bench);
  registerHardwareCommands(program, bench);
  registerProxiesCommands(program, bench);
  registerDevicesCommands(program, bench);
  registerSearchCommands(program, bench);
  registerAggregateCommands(program);
  registerReviewCommands(program);
  registerCommentCommands(program);
  nameRefusals(program);
  return program;
}

/** Parses argv, runs the command and returns the process exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    return exitCodeFor(error);
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version requests end with exit code 0; everything else commander rejects is usage.
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`simnas: ${boundedMessage(error.message)}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof EnvironmentError) {
    process.stderr.write(`simnas: ${boundedMessage(error.message)}\n`);
    return EXIT_FAILURE;
  }
  if (error instanceof InterruptedError) {
    process.stderr.write(`simnas: ${error.message}\n`);
    return EXIT_INTERRUPTED;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`simnas: ${message}\n`);
  return EXIT_FAILURE;
}

/**
 * Every option and argument parser of the tree, wrapped once so that a refusal (a UsageError, or
 * commander's InvalidArgumentError) is reported as `--flag: <why>; expected <what>`: the value is
 * quoted by the parser (cut and escaped), never echoed raw the way commander's own "argument '...'
 * is invalid" line would echo it.
 */
function nameRefusals(command: Command): void {
  const wrap = (name: string, target: { parseArg?: (value: string, previous: unknown) => unknown }): void => {
    const parse = target.parseArg;
    if (!parse) return;
    target.parseArg = (value, previous) => {
      try {
        return parse(value, previous);
      } catch (error) {
        if (error instanceof UsageError || error instanceof InvalidArgumentError) {
          throw new UsageError(`${name}: ${error.message}`, { cause: error });
        }
        throw error;
      }
    };
  };
  for (const option of command.options) wrap(option.long ?? option.flags, option);
  for (const argument of command.registeredArguments) wrap(`<${argument.name()}>`, argument);
  for (const sub of command.commands) nameRefusals(sub);
}
