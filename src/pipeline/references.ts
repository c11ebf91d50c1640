// After verification: the space's well-known designs (NB201's ResNet cell, FBNet-A/B/C, ...)
// measured on the same device, so a report shows what the search bought over what a team would
// otherwise deploy. One measure call: on live hardware that is one set of interleaved rounds with
// sample cells as drift anchors, the protocol every verification uses. These measurements are
// counted apart from the method's samples and verifications.
import type { Device } from '../devices/device.js';
import { InterruptedError } from '../errors.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import type { Logger } from '../util/log.js';
import type { MeasuredReference } from './types.js';

export async function measureReferences(
  device: Device,
  space: SearchSpace,
  scoreOf: (architecture: Architecture) => Promise<number>,
  logger: Logger,
): Promise<{ references: MeasuredReference[]; measurementsSpent: number }> {
  // A recorded table may lack a design (HW-NAS-Bench's Edge TPU column has holes): left out.
  const designs = space.references
    .map((reference) => ({ ...reference, parsed: space.parse(reference.architecture) }))
    .filter((reference) => device.hasData?.(reference.parsed) ?? true);
  if (designs.length === 0) return { references: [], measurementsSpent: 0 };
  try {
    const measured = await logger.group(
      `measuring ${designs.length} well-known design(s) of the space beside the recommendation`,
      () => device.measure(designs.map((design) => design.parsed)),
    );
    const references: MeasuredReference[] = [];
    for (const [i, design] of designs.entries()) {
      const score = await scoreOf(design.parsed);
      references.push({
        name: design.name,
        cell: space.format(design.parsed),
        source: design.source,
        measuredMs: measured.latenciesMs[i]!,
        taskScore: Number.isFinite(score) ? score : null,
      });
    }
    return { references, measurementsSpent: measured.measurementsSpent };
  } catch (error) {
    // The recommendation stands without them: a failure here is a warning, never the run's end.
    if (error instanceof InterruptedError) throw error;
    logger.warn(
      `could not measure the well-known designs beside the recommendation: ${(error as Error).message}`,
    );
    return { references: [], measurementsSpent: 0 };
  }
}
