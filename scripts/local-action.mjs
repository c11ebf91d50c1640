// Runs the built action (dist/action.js) on this machine the way a runner would: inputs and
// context come from `.env` (INPUT_<NAME>=value, GITHUB_*; see .env.example), and the files a runner
// provides (outputs, job summary, temp folder) are created under .simnas-local/. Prints the outputs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
const envFile = path.resolve(process.argv[2] ?? '.env');
if (existsSync(envFile)) {
  process.loadEnvFile(envFile);
  console.log(`inputs from ${envFile}`);
} else {
  console.log(`no ${envFile}: running with the action's defaults (copy .env.example to .env to change them)`);
}
const work = path.join(root, '.simnas-local');
mkdirSync(path.join(work, 'temp'), { recursive: true });
const runnerFile = (name, variable) => {
  const file = path.join(work, name);
  writeFileSync(file, '');
  process.env[variable] ??= file;
  return process.env[variable];
};
const outputs = runnerFile('outputs.txt', 'GITHUB_OUTPUT');
const summary = runnerFile('summary.md', 'GITHUB_STEP_SUMMARY');
process.env.RUNNER_TEMP ??= path.join(work, 'temp');
process.env.GITHUB_EVENT_NAME ??= 'workflow_dispatch';
process.env.GITHUB_WORKSPACE ??= process.cwd();

// The action ends the process itself (process.exit, see src/action/bootstrap.ts): print on exit.
process.on('exit', () => {
  console.log(`\noutputs (${outputs}):`);
  for (const match of readFileSync(outputs, 'utf8').matchAll(/^(\S+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) {
    console.log(`  ${match[1]} = ${match[3]}`);
  }
  console.log(`job summary: ${summary}`);
});
await import(pathToFileURL(path.join(root, 'dist', 'action.js')).href);
