// DESIGNED SAMPLES of the layered spaces — the greedy I-optimal design under the layered prior
// (designLayeredSamples in layered-model.ts) for the default count of 10, by space and dataset,
// written out: designing builds the design's own bank of synthetic devices and searches greedily
// (about 8 s of one core here for FBNet), and every search of the space measures these first.
// `simnas devices design --space S` prints them; test/devices-layered.test.ts recomputes the
// design and fails if these drift from it (a change to the prior changes them: paste its output).

export const DESIGNED_LAYERED_SAMPLES: Readonly<Record<string, readonly string[]>> = {
  'fbnet/cifar100': [
    'k5_e6-k5_e3-k5_e6-k3_e6-k5_e6-k5_e6-k5_e6-k3_e6-k3_e1-skip-k5_e6-skip-k3_e6-k3_e3-k5_e3-k3_e6-k3_e6-k3_e6-k5_e6-k5_e6-k5_e1-k3_e3',
    'k5_e6-k5_e3-k5_e6-k5_e6-k3_e6-k5_e6-k3_e6-k5_e1-k5_e6-k5_e1-k5_e6-k5_e1_g2-k5_e3-k5_e3-k5_e3-skip-k3_e1_g2-k3_e1-k3_e1_g2-skip-k3_e1_g2-skip',
    'k3_e6-k3_e1_g2-k3_e6-k3_e6-k3_e6-k3_e6-k3_e6-k3_e6-k3_e3-k3_e1_g2-k3_e6-k3_e1_g2-k3_e3-skip-k3_e1_g2-k3_e6-k3_e3-k3_e6-k3_e1-k3_e1_g2-k3_e1_g2-skip',
    'k3_e6-k3_e1-k3_e6-k3_e6-k3_e1-k3_e3-skip-k3_e1-k3_e6-k3_e3-k3_e3-k3_e1-k3_e1-skip-skip-k5_e1-k3_e3-k3_e3-k5_e6-k3_e3-k3_e6-k3_e6',
    'k5_e1_g2-k3_e1_g2-k5_e1_g2-k5_e1_g2-k3_e1_g2-k3_e1_g2-k3_e3-k5_e1_g2-k5_e1_g2-k5_e6-k5_e1_g2-k5_e1_g2-k3_e6-k3_e1_g2-k5_e1_g2-k3_e1_g2-k3_e1_g2-k5_e1_g2-k5_e6-k5_e1_g2-k5_e6-k3_e6',
    'k5_e6-k3_e6-k5_e3-k5_e3-k5_e3-k5_e3-k5_e6-k3_e6-k3_e3-k3_e3-k3_e1_g2-k5_e6-k5_e3-k3_e1-k3_e3-k5_e1_g2-k5_e1-k5_e1-k5_e3-k5_e6-k3_e1-k3_e1',
    'skip-k5_e6-k5_e1_g2-k3_e1_g2-k3_e1_g2-k3_e1_g2-k3_e6-k5_e6-skip-k3_e6-skip-skip-skip-k5_e6-k3_e3-k3_e3-k5_e3-k3_e3-skip-skip-skip-k5_e3',
    'k5_e1_g2-k3_e1-k5_e3-k5_e3-k5_e6-k5_e1-k5_e1-k3_e3-k5_e6-k3_e6-k5_e6-k5_e1_g2-k3_e6-k5_e6-k3_e3-k3_e3-k5_e3-k5_e3-k3_e3-k5_e1_g2-k3_e1_g2-k3_e6',
    'skip-k5_e6-k5_e3-k5_e3-skip-skip-k5_e6-skip-skip-skip-skip-skip-skip-k5_e6-k5_e6-k3_e6-k5_e6-k3_e1_g2-skip-skip-k5_e1_g2-k5_e6',
    'k5_e1_g2-skip-k5_e6-k5_e6-k5_e3-k3_e1_g2-k3_e1-skip-skip-k5_e1_g2-skip-skip-skip-k3_e1-skip-k5_e1-k3_e1-skip-k5_e3-k5_e1-skip-k3_e3',
  ],
  'fbnet/imagenet': [
    'k5_e6-k5_e6-k5_e6-k5_e3-k3_e6-k3_e6-k3_e6-k5_e3-k5_e6-skip-k3_e3-k3_e6-k5_e6-skip-k3_e6-k5_e1-k5_e1-k3_e3-skip-k5_e3-k3_e1_g2-k5_e6',
    'k5_e6-k5_e1_g2-k5_e6-k5_e1_g2-k5_e3-k5_e1-k5_e3-k5_e1-k5_e1-k5_e1-k5_e1_g2-skip-k5_e3-k5_e1-skip-k5_e1-k5_e1-k5_e1_g2-k5_e1-k5_e1_g2-k5_e1-k5_e1_g2',
    'k3_e6-k3_e6-k3_e6-k3_e1_g2-k3_e3-k3_e6-k3_e1_g2-k3_e6-k3_e1_g2-k3_e3-k3_e1-k3_e1-k5_e1_g2-skip-k5_e1-k5_e1_g2-k3_e1_g2-k5_e3-k3_e1_g2-skip-skip-k3_e1',
    'k5_e1_g2-k3_e1_g2-k5_e1_g2-k3_e6-k3_e1_g2-k3_e1_g2-skip-k3_e6-k3_e1_g2-k3_e1_g2-k5_e6-k3_e1_g2-skip-k3_e6-k5_e6-k3_e1_g2-k3_e6-k5_e1_g2-k3_e6-k3_e1_g2-k3_e3-k5_e6',
    'k5_e3-k5_e1_g2-k5_e6-k5_e6-k5_e6-k3_e6-k5_e6-k5_e3-k5_e1-skip-skip-k5_e6-k5_e1-k5_e1-k5_e1-k3_e1-k5_e1_g2-k5_e1-k5_e1_g2-skip-k5_e1_g2-k5_e1',
    'k3_e6-k5_e1-k3_e1_g2-k3_e3-k5_e1_g2-k3_e1-k5_e1_g2-k5_e6-k5_e1_g2-k3_e1-k5_e6-k3_e1_g2-k5_e3-k3_e6-k5_e6-k5_e6-k3_e6-k3_e6-k3_e6-k5_e6-k5_e6-k5_e6',
    'k5_e3-k3_e1_g2-k3_e1_g2-k3_e1_g2-k5_e1-k5_e1_g2-skip-skip-k5_e1_g2-k5_e1-skip-skip-k5_e6-k3_e6-skip-k5_e1_g2-k3_e3-k5_e1-k5_e6-k5_e6-k3_e6-k5_e6',
    'k5_e3-k5_e6-k5_e1_g2-k3_e1_g2-k5_e3-k3_e1_g2-k5_e6-skip-skip-k3_e1_g2-k3_e1_g2-k5_e6-skip-k3_e1-k5_e6-k3_e6-k5_e6-k3_e1_g2-skip-k5_e3-k5_e1_g2-k5_e1_g2',
    'skip-k3_e1-k5_e1_g2-k5_e1_g2-k3_e1_g2-k3_e1_g2-k5_e1_g2-k3_e1_g2-k3_e6-k5_e1-k3_e1_g2-k3_e1-k3_e1_g2-k3_e1_g2-k3_e1_g2-k3_e1_g2-k5_e1_g2-k3_e1_g2-k3_e6-k5_e1_g2-k5_e1_g2-k5_e1_g2',
    'skip-skip-skip-skip-k3_e1-k5_e1_g2-k5_e1-skip-skip-k3_e3-skip-skip-skip-skip-skip-skip-k5_e6-k3_e1-k3_e1-k3_e3-skip-k5_e1',
  ],
  'macro/cifar10': [
    'id-id-ir_3x3_t3-id-ir_3x3_t3-id-id-ir_3x3_t3',
    'id-id-ir_3x3_t3-id-ir_3x3_t3-ir_5x5_t6-ir_5x5_t6-ir_5x5_t6',
    'ir_5x5_t6-ir_5x5_t6-id-id-id-id-id-id',
    'id-ir_5x5_t6-id-ir_5x5_t6-ir_5x5_t6-ir_5x5_t6-ir_5x5_t6-id',
    'id-ir_5x5_t6-ir_5x5_t6-ir_3x3_t3-ir_3x3_t3-ir_3x3_t3-ir_5x5_t6-ir_3x3_t3',
    'ir_5x5_t6-ir_5x5_t6-id-id-id-ir_5x5_t6-ir_3x3_t3-ir_3x3_t3',
    'id-id-ir_5x5_t6-id-id-ir_5x5_t6-id-id',
    'id-id-id-id-id-id-ir_5x5_t6-ir_5x5_t6',
    'ir_3x3_t3-ir_5x5_t6-ir_3x3_t3-id-id-id-id-id',
    'id-ir_3x3_t3-id-id-id-id-id-id',
  ],
};
