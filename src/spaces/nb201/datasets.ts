// The three NAS-Bench-201 datasets, as far as a network cares: input resolution and class count.

import { invalidValue, UsageError } from '../../errors.js';

export const DATASETS = ['cifar10', 'cifar100', 'ImageNet16-120'] as const;
export type Dataset = (typeof DATASETS)[number];
export const DATASETS_ACCEPTED = `one of ${DATASETS.join(', ')}`;

export interface DatasetShape {
  readonly name: Dataset;
  /** Square input side in pixels (3 channels). */
  readonly inputSize: number;
  readonly classes: number;
}

export const DATASET_SHAPES: Readonly<Record<Dataset, DatasetShape>> = {
  cifar10: { name: 'cifar10', inputSize: 32, classes: 10 },
  cifar100: { name: 'cifar100', inputSize: 32, classes: 100 },
  'ImageNet16-120': { name: 'ImageNet16-120', inputSize: 16, classes: 120 },
};

/** Thrown for a dataset name we do not know; says which ones we do. */
export class UnknownDatasetError extends UsageError {
  override name = 'UnknownDatasetError';
}

export function parseDataset(name: string): Dataset {
  const found = DATASETS.find((d) => d.toLowerCase() === name.trim().toLowerCase());
  if (!found) {
    const { message } = invalidValue(name, 'is not a dataset', DATASETS_ACCEPTED);
    throw new UnknownDatasetError(message);
  }
  return found;
}
