// Plain-text rendering of measurements for terminals and logs: a per-cell table and a one-line
// summary of the protocol, so every printed latency says how it was obtained.
import type { Anchoring, MeasurementProtocol, MeasurementResult } from './measure.js';

export function formatLatencyTable(result: MeasurementResult): string {
  const header = ['cell', 'median ms', 'p90 ms', 'CV %', 'SE %', 'noisy'];
  const rows = result.cells.map((cell) => [
    cell.cell,
    cell.medianMs.toFixed(3),
    cell.p90Ms.toFixed(3),
    (cell.cv * 100).toFixed(1),
    (cell.standardError * 100).toFixed(1),
    cell.noisy ? 'yes' : '',
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (row: readonly string[]): string =>
    row
      .map((value, column) =>
        column === 0 ? value.padEnd(widths[column]!) : value.padStart(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** "drift x1.04 ± 1.1% over 3 anchors, corrected for" */
export function describeAnchoring(anchoring: Anchoring): string {
  return (
    `drift x${anchoring.drift.toFixed(3)} ± ${(anchoring.driftError * 100).toFixed(1)}% over ` +
    `${anchoring.anchors.length} anchor(s), corrected for`
  );
}

export function describeProtocol(protocol: MeasurementProtocol, wallMs: number): string {
  const budget =
    protocol.timeBudgetMs === undefined ? '' : `, budget ${(protocol.timeBudgetMs / 1000).toFixed(1)} s`;
  return (
    `measured with onnxruntime-node ${protocol.onnxruntimeVersion} (${protocol.provider}, ` +
    `${protocol.threads} thread(s)), ${protocol.dataset} batch ${protocol.batchSize}: ` +
    `${protocol.warmupRuns} warm-up runs, ${protocol.roundsCompleted}/${protocol.rounds} interleaved rounds` +
    `${protocol.stoppedByBudget ? ' (stopped by budget)' : ''}, ${protocol.timedRuns} timed runs, ` +
    `${protocol.remeasureAttempts} re-measure pass(es), noisy above a ${(protocol.noisyError * 100).toFixed(0)}% standard error` +
    `${protocol.anchoring ? `, ${describeAnchoring(protocol.anchoring)}` : ''}` +
    `${budget}, seed ${protocol.seed}; other processes used ${protocol.backgroundCores.toFixed(1)} of ` +
    `${protocol.logicalCores} cores meanwhile; wall ${(wallMs / 1000).toFixed(1)} s`
  );
}
