// THE TASK SCORE'S REFERENCE NORMALISERS written out: the mean and sd of each term over the
// NETWORK_REFERENCE_SIZE seeded random architectures (createNetworkTaskScorer in task-scorer.ts),
// for each layered space and dataset with the default synthetic NASWOT images. Computing them
// costs a fresh machine 16 forward passes before its first search (about 7 s for FBNet CIFAR-100,
// 35 s for FBNet ImageNet here), the same on every machine. Keyed by the scorer's id (proxy
// version, space, dataset, settings, reference size), so a change to any of them falls back to
// computing; test/network-proxies.test.ts recomputes them and fails, printing what to paste,
// when they drift or a key goes stale.
import type { NetworkScoreNormaliser } from './network-score.js';

export const BUNDLED_REFERENCE_NORMALISERS: Readonly<Record<string, NetworkScoreNormaliser>> = {
  // fbnet/cifar100
  '90e8c605356d1733/16': {
    size: 16,
    naswot: { mean: 421.7350239814792, sd: 5.272416853238387 },
    logFlops: { mean: 4.108442578154021, sd: 0.17599342861304257 },
    logParams: { mean: 0.4806082791548484, sd: 0.21470838408182746 },
    relus: { mean: 41.625, sd: 2.9410882339705484 },
  },
  // fbnet/imagenet
  '444808db51931dcd/16': {
    size: 16,
    naswot: { mean: 469.8168058909927, sd: 6.483729841217155 },
    logFlops: { mean: 5.422205549288038, sd: 0.15101378012003586 },
    logParams: { mean: 1.2922009069906066, sd: 0.09683476178087788 },
    relus: { mean: 41.625, sd: 2.9410882339705484 },
  },
  // macro/cifar10
  '2f3d82ddfa0312b2/16': {
    size: 16,
    naswot: { mean: 397.84724533777387, sd: 10.203159412542178 },
    logFlops: { mean: 3.9013185134160753, sd: 0.3651089883971109 },
    logParams: { mean: 0.34727911505836095, sd: 0.46285777806047446 },
    relus: { mean: 11.625, sd: 3.0304015135511886 },
  },
};
