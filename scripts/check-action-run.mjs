// Checks what one run of the action left behind: its outputs (as JSON, the workflow's
// `toJSON(steps.<id>.outputs)`, in SIMNAS_OUTPUTS) agree with each other and with the report files
// in its report-path. The CI job that runs the action from the checkout (`uses: ./`) calls it;
// test/action-run.test.ts calls it on a loopback run. Prints what it checked; exits 1 on a mismatch.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The problems found, empty when the run is consistent.
 * @param {Record<string, string>} outputs
 * @param {{ hardwareTag?: string, comment?: boolean }} expected
 * @returns {string[]}
 */
export function actionRunProblems(outputs, expected = {}) {
  const problems = [];
  const need = (name) => {
    const value = outputs[name];
    if (value === undefined || value === '') problems.push(`output '${name}' is empty`);
    return value ?? '';
  };
  const reportPath = need('report-path');
  const files = ['report.json', 'report.md', 'pareto.svg'].map((file) => path.join(reportPath, file));
  for (const file of files) if (!existsSync(file)) problems.push(`${file} is missing`);
  if (problems.length > 0) return problems;
  const report = JSON.parse(readFileSync(files[0], 'utf8'));
  const architecture = need('architecture');
  if (report.schema !== 'simnas-report') problems.push(`report.json has schema '${report.schema}'`);
  if (report.recommendation?.cell !== architecture) {
    problems.push(
      `output architecture '${architecture}' is not report.json's recommendation '${report.recommendation?.cell}'`,
    );
  }
  const latency = Number(need('latency-ms'));
  if (!(latency > 0) || Math.abs(latency - report.recommendation.measuredMs) > 1e-3) {
    problems.push(
      `output latency-ms '${outputs['latency-ms']}' is not report.json's ${report.recommendation.measuredMs}`,
    );
  }
  if (!['true', 'false'].includes(need('within-budget')))
    problems.push(`within-budget is '${outputs['within-budget']}'`);
  if (!(Number(need('budget-ms')) > 0)) problems.push(`budget-ms is '${outputs['budget-ms']}'`);
  if (String(report.measurements.total) !== need('measurements')) {
    problems.push(
      `output measurements '${outputs.measurements}' is not report.json's ${report.measurements.total}`,
    );
  }
  const tag = need('hardware-tag');
  if (expected.hardwareTag !== undefined && tag !== expected.hardwareTag) {
    problems.push(`hardware-tag is '${tag}', expected '${expected.hardwareTag}'`);
  }
  if (report.run?.hardwareTag !== tag)
    problems.push(`report.json's hardware tag is '${report.run?.hardwareTag}'`);
  const markdown = readFileSync(files[1], 'utf8');
  if (!markdown.includes('**Recommended cell**')) problems.push('report.md has no recommended cell');
  if (!readFileSync(files[2], 'utf8').startsWith('<svg')) problems.push('pareto.svg is not an SVG');
  if (expected.comment === false && outputs['comment-url']) {
    problems.push(`comment-url is '${outputs['comment-url']}' with comment: never`);
  }
  return problems;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outputs = JSON.parse(process.env.SIMNAS_OUTPUTS ?? '{}');
  const problems = actionRunProblems(outputs, {
    ...(process.env.EXPECTED_HARDWARE_TAG ? { hardwareTag: process.env.EXPECTED_HARDWARE_TAG } : {}),
    ...(process.env.EXPECTED_COMMENT === 'never' ? { comment: false } : {}),
  });
  for (const problem of problems) console.log(`::error title=simnas action run::${problem}`);
  if (problems.length > 0) process.exit(1);
  console.log(
    `the action's outputs agree with ${outputs['report-path']}: ${outputs.architecture} at ${outputs['latency-ms']} ms`,
  );
}
