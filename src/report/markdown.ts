// The Markdown a person reads: the recommendation against the budget, the Pareto front (measured
// and predicted points marked), a Mermaid chart, and the details (samples, latency-model error,
// controller, measurement counts and protocol) folded away. GitHub caps comments at 65,536
// characters, so the front table is truncated, with a note, when it would not fit.
import { frontMermaid } from './chart.js';
import { hardwareName, type SearchReport } from './report.js';

export const COMMENT_LIMIT = 65_536;
const FRONT_ROWS = 10;

const ms = (value: number): string => `${value.toPrecision(3)} ms`;
const score = (value: number): string => value.toFixed(4);
/** A cell string in a table: GFM splits table cells at '|' even inside code spans unless escaped. */
const tableCode = (text: string): string => `\`${text.replaceAll('|', '\\|')}\``;

export function renderMarkdown(report: SearchReport, limit = COMMENT_LIMIT): string {
  for (let rows = FRONT_ROWS; rows >= 0; rows--) {
    const text = render(report, rows);
    if (text.length <= limit) return text;
  }
  return `${render(report, 0).slice(0, limit - 40)}\n\n_(report truncated)_\n`;
}

function render(report: SearchReport, frontRows: number): string {
  const rec = report.recommendation;
  const hardware = report.fingerprint
    ? `${hardwareName(report)} (\`${report.fingerprint.hash}\`, ${report.fingerprint.cpuModel})`
    : `${report.device.kind} device ${report.device.name}`;
  const budgetText =
    report.budget.source === 'given'
      ? `budget ${ms(report.budget.ms)}`
      : `no budget given: target ${ms(report.budget.ms)}, the knee of the predicted front`;
  const verdict = rec.certified
    ? '✅ within budget'
    : rec.withinBudget
      ? '⚠️ within budget, inside the noise margin'
      : '⚠️ over budget';
  const lines = [
    `### simnas: ${report.dataset} on ${hardware}`,
    '',
    `**Recommended cell** \`${rec.cell}\``,
    '',
    `| measured latency | ${report.budget.source === 'given' ? 'budget' : 'target'} | task score | verdict |`,
    '|---|---|---|---|',
    `| ${ms(rec.measuredMs)} (predicted ${ms(rec.predictedMs)} ± ${ms(rec.predictedStdMs)}) | ${ms(report.budget.ms)} | ${score(rec.taskScore)} | ${verdict} |`,
    '',
    `${rec.reason}. ${budgetText[0]!.toUpperCase()}${budgetText.slice(1)}.`,
    '',
  ];
  const front = [...report.front].sort((a, b) => b.taskScore - a.taskScore);
  if (frontRows > 0) {
    const shown = front.slice(0, frontRows);
    lines.push(
      `#### Pareto front (${report.front.length} cells; task score vs latency)`,
      '',
      '| cell | latency | source | task score |',
      '|---|---|---|---|',
      ...shown.map(
        (p) =>
          `| ${tableCode(p.cell)} | ${ms(p.latencyMs)}${p.latencyStdMs !== undefined ? ` ± ${ms(p.latencyStdMs)}` : ''} | ${p.latencySource} | ${score(p.taskScore)} |`,
      ),
      '',
    );
    if (shown.length < front.length)
      lines.push(`_${front.length - shown.length} more front cells in report.json._`, '');
    lines.push(
      frontMermaid(
        report.front.map((p) => ({ ...p, onFront: true })),
        { title: `${report.dataset}: Pareto front` },
      ),
      '',
    );
  } else {
    lines.push(`_Pareto front table omitted to fit the comment limit; see report.json._`, '');
  }
  lines.push(
    '<details><summary>Details: samples, latency model, controller, protocol</summary>',
    '',
    `**Measurements**: ${report.measurements.samples} sample cells + ${report.measurements.verification} verification = ${report.measurements.total} real measurements${report.measurements.reused > 0 ? `, ${report.measurements.reused} cells reused from earlier measurements of this hardware` : ''}; ${report.cellsEvaluated} cells evaluated on the latency model by the ${report.strategy} strategy.`,
    '',
    ...(report.cellsWithoutScore > 0
      ? [
          `**Coverage**: ${report.cellsWithoutScore} cells have no task score yet (the proxy table is incomplete) and were left out of the search.`,
          '',
        ]
      : []),
    ...(report.run
      ? [
          `**Caches**: ${Object.entries(report.run.caches)
            .map(([name, outcome]) => `${name} ${outcome}`)
            .join(', ')}.`,
          '',
        ]
      : []),
    '| sample cell | measured |',
    '|---|---|',
    ...report.samples.map((s) => `| ${tableCode(s.cell)} | ${ms(s.measuredMs)} |`),
    '',
    `**Latency model**: leave-one-out error ${report.latencyModel.looMapePercent.toFixed(1)}% (RMSE ${ms(report.latencyModel.looRmseMs)}) over the samples.`,
    '',
    '| verified candidate | measured | predicted | task score |',
    '|---|---|---|---|',
    ...report.verified.map(
      (v) =>
        `| ${tableCode(v.cell)} | ${ms(v.measuredMs)} | ${ms(v.predictedMs)} ± ${ms(v.predictedStdMs)} | ${score(v.taskScore)} |`,
    ),
    '',
    `**Task score**: \`${report.taskScoreId}\` (training-free proxies; higher is better).`,
    report.controller
      ? `**Controller**: ${report.controller.path} (simnas ${report.controller.simnasVersion}).`
      : `**Controller**: not used (strategy ${report.strategy}).`,
    report.protocol
      ? `**Protocol**: onnxruntime ${report.protocol.onnxruntimeVersion} (${report.protocol.provider}, ${report.protocol.threads} thread(s), batch ${report.protocol.batchSize}), ${report.protocol.rounds} interleaved rounds, median of individually timed runs.`
      : '',
    `**Reproduce**: simnas ${report.simnasVersion}, seed ${report.seed}, Node ${report.nodeVersion}.`,
    '',
    '</details>',
    '',
  );
  return lines.join('\n');
}
