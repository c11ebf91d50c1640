// Entry point of the `simnas` command: builds the command tree and maps errors to exit codes.
// Each command lives in src/cli/ and only translates arguments into calls of the pipeline modules.
import { runCli } from './cli/program.js';

process.exitCode = await runCli(process.argv);
