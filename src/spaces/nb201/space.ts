// NAS-Bench-201 behind the SearchSpace interface: positions are the cell's 6 edges, choices the 5
// operations. Everything here delegates to cell.ts, cost.ts and network.ts, so codes, strings,
// counts and networks are exactly the ones simnas used before spaces were pluggable.
import type { Random } from '../../util/random.js';
import type {
  Architecture,
  ArchitectureRow,
  NetworkRequest,
  SearchSpace,
  SpaceGraph,
  SpaceNetwork,
} from '../space.js';
import {
  type Cell,
  decodeCell,
  edgeLabel,
  effectiveCell,
  encodeCell,
  formatCell,
  isConnected,
  liveEdges,
  neighbours,
  NUM_EDGES,
  OPS,
  parseCell,
  SPACE_SIZE,
} from './cell.js';
import { networkCost } from './cost.js';
import { DATASET_SHAPES, DATASETS, parseDataset } from './datasets.js';
import { buildNetwork, buildNetworkGraph } from './network.js';
import { openProxyTable } from './proxies/score-table.js';

const asCell = (architecture: Architecture): Cell => architecture as Cell;

export const nb201Space: SearchSpace = {
  id: 'nb201',
  title: 'NAS-Bench-201 topology',
  datasets: DATASETS,
  positions: NUM_EDGES,
  choices: Array.from({ length: NUM_EDGES }, () => OPS),
  positionLabel: (position) => `edge ${edgeLabel(position)}`,
  size: SPACE_SIZE,
  enumerable: true,
  noun: 'cell',
  archColumn: 'arch_str',

  parse: parseCell,
  format: (architecture) => formatCell(asCell(architecture)),
  code: (architecture) => encodeCell(asCell(architecture)),
  fromCode: decodeCell,
  key: (architecture) => String(encodeCell(asCell(architecture))),

  sample: (random: Random) => decodeCell(random.int(SPACE_SIZE)),
  neighbours: (architecture) => neighbours(asCell(architecture)),
  isUsable: (architecture) => isConnected(asCell(architecture)),
  deployed: (architecture) => effectiveCell(asCell(architecture)),

  references: [
    {
      name: 'ResNet-like cell',
      architecture: '|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|',
      source: "NAS-Bench-201's ResNet cell (x + conv3x3(conv3x3(x))), as NATS-Bench names it",
    },
  ],
  publicForm: (architecture, dataset) => ({
    definition: "NATS-Bench's get_cell_based_tiny_net (xautodl.models)",
    config: {
      name: 'infer.tiny',
      C: 16,
      N: 5,
      arch_str: formatCell(asCell(architecture)),
      num_classes: DATASET_SHAPES[parseDataset(dataset)].classes,
    },
  }),
  counts: (architecture, dataset) => networkCost(asCell(architecture), parseDataset(dataset)).nominal,
  describe(architecture, dataset): ArchitectureRow[] {
    parseDataset(dataset);
    const live = liveEdges(asCell(architecture));
    return architecture.map((op, edge) => ({
      edge: edgeLabel(edge),
      op: OPS[op]!,
      live: live[edge] ? 'yes' : 'no (dead)',
    }));
  },
  network(architecture: Architecture, request: NetworkRequest): SpaceNetwork {
    // The deployed (pruned) network at a static batch, what NB201 measurement has always built,
    // unless the eager one is asked for.
    const network = buildNetwork(asCell(architecture), {
      dataset: parseDataset(request.dataset),
      batchSize: request.batchSize,
      seed: request.seed,
      prune: !request.eager,
    });
    return {
      bytes: network.bytes,
      inputName: network.input.name,
      inputShape: network.input.dims,
      outputShape: network.output.dims,
    };
  },
  networkGraph(architecture: Architecture, request: NetworkRequest): SpaceGraph {
    return buildNetworkGraph(asCell(architecture), {
      dataset: parseDataset(request.dataset),
      batchSize: request.batchSize,
      seed: request.seed,
      prune: !request.eager,
    });
  },
  openScoreTable: openProxyTable,
};
