// The Markdown a person reads: the recommendation against the budget, the Pareto front (measured
// and predicted points marked), a Mermaid chart, and the details (samples, latency-model error,
// the measured candidates, controller, measurement counts, protocol, and the command that repeats
// the run) folded away. GitHub caps comments at 65,536 characters, so the front table is
// truncated, with a note, when it would not fit.
import { frontMermaid } from './chart.js';
import { DEFAULT_SPACE_ID, spaceById } from '../spaces/index.js';
import { hardwareName, type SearchReport } from './schema.js';

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
  const { noun } = spaceById(report.space ?? DEFAULT_SPACE_ID);
  const hardware = report.fingerprint
    ? `${hardwareName(report)} (\`${report.fingerprint.hash}\`, ${report.fingerprint.cpuModel})`
    : `${report.device.kind} device ${report.device.name}`;
  const budgetText =
    report.budget.source === 'given'
      ? `budget ${ms(report.budget.ms)}`
      : `no budget given: target ${ms(report.budget.ms)}, the knee of the predicted front` +
        (report.budget.kneeMs !== undefined
          ? ` (at ${ms(report.budget.kneeMs)}) predicted, with room for its prediction's uncertainty and the noise margin, rounded up to a preferred number`
          : '');
  const verdict = rec.certified
    ? '✅ within budget'
    : rec.measuredMs <= report.budget.ms
      ? '⚠️ could not certify (inside the noise margin)'
      : '⚠️ over budget';
  const lines = [
    `### simnas: ${report.dataset} on ${hardware}`,
    '',
    `**Recommended ${noun}** \`${rec.cell}\``,
    '',
    `| measured latency | ${report.budget.source === 'given' ? 'budget' : 'target'} | task score | verdict |`,
    '|---|---|---|---|',
    `| ${ms(rec.measuredMs)} (${rec.source === 'sample' ? `a sample ${noun}, measured to fit the model` : `predicted ${ms(rec.predictedMs)} ± ${ms(rec.predictedStdMs)}`}) | ${ms(report.budget.ms)} | ${score(rec.taskScore)} | ${verdict} |`,
    '',
    `${rec.reason}. ${budgetText[0]!.toUpperCase()}${budgetText.slice(1)}.`,
    '',
    ...referenceTable(report),
  ];
  const front = [...report.front].sort((a, b) => b.taskScore - a.taskScore);
  if (frontRows > 0) {
    const shown = front.slice(0, frontRows);
    lines.push(
      `#### Pareto front (${report.front.length} ${noun}s; task score vs latency)`,
      '',
      `| ${noun} | latency | source | task score |`,
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
    `**Measurements**: ${report.measurements.samples} sample ${noun}s + ${report.measurements.verification} verification = ${report.measurements.total} real measurements${report.measurements.references ? ` (and ${report.measurements.references} of well-known designs, apart)` : ''}${report.measurements.reused > 0 ? `, ${report.measurements.reused} cells reused from earlier measurements of this hardware` : ''}; ${report.cellsEvaluated} ${noun}s evaluated on the latency model by the ${report.strategy} strategy.`,
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
    `| sample ${noun} | measured |`,
    '|---|---|',
    ...report.samples.map((s) => `| ${tableCode(s.cell)} | ${ms(s.measuredMs)} |`),
    '',
    ...architectureTable(report),
    `**Latency model**: leave-one-out error ${report.latencyModel.looMapePercent.toFixed(1)}% (RMSE ${ms(report.latencyModel.looRmseMs)}) over the samples.`,
    '',
    ...candidateTable(report),
    `**Task score**: \`${report.taskScoreId}\` (training-free proxies; higher is better).`,
    report.controller
      ? `**Controller**: ${controllerText(report.controller, report.dataset)}.`
      : report.strategy === 'controller-untrained'
        ? `**Controller**: the controller's policy untrained (freshly initialised weights under seed ${report.seed}), deployed as the pretrained one is: the ablation of pretraining.`
        : `**Controller**: not used (strategy ${report.strategy}).`,
    report.protocol
      ? `**Protocol**: onnxruntime ${report.protocol.onnxruntimeVersion} (${report.protocol.provider}, ${report.protocol.threads} thread(s), batch ${report.protocol.batchSize}), samples in ${report.protocol.rounds} interleaved rounds, median over visits (each visit's runs timed as one group); each verification measured with sample cells as drift anchors.`
      : '',
    report.conditions ? `**Load while measuring**: ${conditionsText(report.conditions)}.` : '',
    report.device.kind === 'table'
      ? `**Reproduce**: \`${reproduceCommand(report)}\` (simnas ${report.simnasVersion}, Node ${report.nodeVersion}).`
      : `**Rerun** on the same hardware (live latencies vary from run to run): \`${reproduceCommand(report)}\` (simnas ${report.simnasVersion}, seed ${report.seed}, Node ${report.nodeVersion}).`,
    '',
    '</details>',
    '',
  );
  return lines.join('\n');
}

/**
 * The recommendation beside the space's well-known designs, all measured on this device: what the
 * search bought over what a team would deploy without it.
 */
function referenceTable(report: SearchReport): string[] {
  const references = report.references ?? [];
  if (references.length === 0) return [];
  const rec = report.recommendation;
  const fits = (measuredMs: number) => (measuredMs <= report.budget.ms ? 'yes' : 'no');
  return [
    `#### Beside well-known designs (measured on this ${report.device.kind === 'table' ? 'device' : 'runner'})`,
    '',
    '| design | measured latency | task score | under the budget |',
    '|---|---|---|---|',
    `| **recommended** ${tableCode(rec.cell)} | ${ms(rec.measuredMs)} | ${score(rec.taskScore)} | ${fits(rec.measuredMs)} |`,
    ...references.map(
      (r) =>
        `| ${r.name} ${tableCode(r.cell)} | ${ms(r.measuredMs)} | ${r.taskScore === null ? 'n/a' : score(r.taskScore)} | ${fits(r.measuredMs)} |`,
    ),
    '',
  ];
}

/** The recommended architecture position by position, and the config that trains it. */
function architectureTable(report: SearchReport): string[] {
  const space = spaceById(report.space ?? DEFAULT_SPACE_ID);
  const rec = report.recommendation;
  const rows = space.describe(space.parse(rec.cell), report.dataset);
  const columns = Object.keys(rows[0] ?? {});
  return [
    `**Recommended architecture** (${space.title}, ${report.dataset}):`,
    '',
    `| ${columns.join(' | ')} |`,
    `|${columns.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${columns.map((c) => String(row[c])).join(' | ')} |`),
    '',
    ...(rec.publicForm
      ? [
          `**Train it** with ${rec.publicForm.definition}: \`${JSON.stringify(rec.publicForm.config)}\` (or \`simnas export\` for the ONNX network).`,
          '',
        ]
      : []),
  ];
}

/**
 * The measured candidates: the verified cells, then the sample that competed without a
 * verification measurement, marked so, with its model value shown as the fit it is.
 */
function candidateTable(report: SearchReport): string[] {
  const rows = report.verified.map((v) =>
    v.source === 'sample'
      ? `| ${tableCode(v.cell)} (sample) | ${ms(v.measuredMs)} | fitted ${ms(v.predictedMs)} | ${score(v.taskScore)} |`
      : `| ${tableCode(v.cell)} | ${ms(v.measuredMs)} | ${ms(v.predictedMs)} ± ${ms(v.predictedStdMs)} | ${score(v.taskScore)} |`,
  );
  const samples = report.verified.filter((v) => v.source === 'sample').length;
  return [
    '| verified candidate | measured | predicted | task score |',
    '|---|---|---|---|',
    ...rows,
    '',
    ...(samples > 0
      ? [
          `_(sample): ${samples === 1 ? 'the best sample cell, which competes' : `${samples} sample cells, which compete`} without a verification measurement ` +
            `(${report.verified.length - samples} verified + ${samples}); the model was fitted to its measurement, so its value is a fit, not a prediction._`,
          '',
        ]
      : []),
  ];
}

/** The controller without the runner's paths: bundled, or where it lay, and which one (hash). */
function controllerText(controller: NonNullable<SearchReport['controller']>, dataset: string): string {
  const where = controller.bundled ? `bundled (${dataset})` : `\`${controller.path}\``;
  return `${where}, sha256 \`${controller.sha256}\`, pretrained by simnas ${controller.simnasVersion}`;
}

/** A shell word: quoted unless it is plainly safe, so a path with spaces survives a copy and paste. */
const shellWord = (word: string): string =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;

/**
 * The \`simnas search\` command line that repeats this run: for a recorded (table) device the
 * same measurements, noise and all, so the same recommendation; for a live device the same
 * settings on this hardware. Without a budget the knee is chosen again from the same fit.
 */
export function reproduceCommand(report: SearchReport): string {
  const args: string[] = ['simnas', 'search'];
  if (report.device.kind === 'table') {
    args.push('--device', `table:${report.device.table ?? '<table.csv>'}:${report.device.name}`);
    args.push('--noise', String(report.device.noise ?? 0));
  } else {
    if (report.protocol)
      args.push('--provider', report.protocol.provider, '--threads', String(report.protocol.threads));
  }
  if (report.space !== undefined && report.space !== DEFAULT_SPACE_ID) args.push('--space', report.space);
  args.push('--dataset', report.dataset, '--strategy', report.strategy);
  if (report.controller && !report.controller.bundled) args.push('--controller', report.controller.path);
  const { settings } = report;
  args.push('--samples', String(settings.samples), '--verify', String(settings.verify));
  if (report.strategy === 'random' || report.strategy === 'evolution') {
    args.push('--evaluations', String(settings.evaluations));
  }
  if (settings.calibrationImages) args.push('--calibration-images', settings.calibrationImages);
  if (settings.computeMissingScores) args.push('--compute-missing-scores');
  if (report.budget.source === 'given') args.push('--budget', `${report.budget.ms}ms`);
  args.push('--seed', String(report.seed));
  return args.map(shellWord).join(' ');
}

/**
 * "samples: 0.1 busy cores (load 0.4); 6 later calls: 0.1-1.2 busy cores, anchors' drift
 * x0.98-x1.06 (latencies corrected for it), anchors disagreeing by up to 1.2%"
 */
function conditionsText(conditions: NonNullable<SearchReport['conditions']>): string {
  const cores = (values: number[]): string => {
    const low = Math.min(...values).toFixed(1);
    const high = Math.max(...values).toFixed(1);
    return `${low === high ? low : `${low}-${high}`} busy cores of other processes`;
  };
  const [first, ...rest] = conditions;
  const parts = [
    `samples: ${cores([first!.backgroundCores])} (load average ${first!.loadAverage[0].toFixed(1)})`,
  ];
  if (rest.length > 0) {
    const anchorings = rest.flatMap((c) => (c.anchoring ? [c.anchoring] : []));
    const drifts = anchorings.map((a) => a.drift);
    const dispersions = anchorings.map((a) => a.dispersion);
    parts.push(
      `${rest.length} later call(s) (verifications, well-known designs): ${cores(rest.map((c) => c.backgroundCores))}` +
        (drifts.length > 0
          ? `, anchors' drift x${Math.min(...drifts).toFixed(3)}-x${Math.max(...drifts).toFixed(3)} (latencies corrected for it)`
          : '') +
        (dispersions.length > 0
          ? `, anchors disagreeing by up to ${(Math.max(...dispersions) * 100).toFixed(1)}%`
          : ''),
    );
  }
  return parts.join('; ');
}
