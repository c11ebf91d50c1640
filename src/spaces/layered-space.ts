// The SearchSpace of a layered network (FBNet, NAS-Bench-Macro): a fixed number of layers, each
// one of the same few blocks, written as the block names joined by '-', layer 1 first. A space
// supplies its blocks, settings and operator lists; text form, codes, sampling, neighbours, counts,
// the description table and the ONNX network are the same for all of them and written once here.
import { UsageError } from '../errors.js';
import type { Random } from '../util/random.js';
import { buildLayeredGraph, buildLayeredNetwork, type LayeredNetworkSpec } from './layered-network.js';
import { type Operator, operatorMacs, operatorParams } from './operators.js';
import type {
  Architecture,
  ArchitectureRow,
  NetworkCounts,
  NetworkRequest,
  PublicForm,
  ReferenceDesign,
  SearchSpace,
} from './space.js';

/** One input setting (dataset) of a layered network. */
export interface LayeredSetting {
  readonly name: string;
  readonly inputSize: number;
  readonly classes: number;
}

export interface LayeredDefinition<S extends LayeredSetting> {
  readonly id: string;
  readonly title: string;
  /** Said in parse errors: "FBNet", "NAS-Bench-Macro". */
  readonly shortName: string;
  readonly blocks: readonly string[];
  readonly layers: number;
  /** The first is the default. */
  readonly settings: readonly S[];
  /** Every operator in execution order (stem, layers, head), classifier excluded. */
  operators(architecture: Architecture, setting: S): Operator[];
  /** The searchable layers' operators only. */
  bodyOperators(architecture: Architecture, setting: S): Operator[];
  /** Columns that place a layer ("stage": 2, "channels": "24->32", "stride": 2). */
  layerColumns(layer: number, setting: S): ArchitectureRow;
  /** Well-known designs; each must parse. */
  readonly references: readonly ReferenceDesign[];
  /** The architecture as the space's public model definition takes it. */
  publicForm(architecture: Architecture, setting: S): PublicForm;
  /** Raised for malformed text (a UsageError subclass naming the space). */
  readonly parseError: new (message: string) => UsageError;
}

/** Parses block names joined by '-'; errors name the layer, what was found and what is accepted. */
export function parseBlockNames(
  text: string,
  definition: Pick<LayeredDefinition<LayeredSetting>, 'blocks' | 'layers' | 'shortName' | 'parseError'>,
): number[] {
  const { blocks, layers, shortName, parseError } = definition;
  const names = text.trim().split('-');
  const accepted = `each of the ${layers} layers is one of ${blocks.join(', ')}, joined by '-'`;
  if (names.length !== layers) {
    throw new parseError(
      `invalid ${shortName} architecture: found ${names.length} layer(s), expected ${layers} (${accepted})`,
    );
  }
  return names.map((name, layer) => {
    const index = blocks.indexOf(name);
    if (index < 0) {
      throw new parseError(
        `invalid ${shortName} architecture: layer ${layer + 1} is '${name.slice(0, 40)}' (${accepted})`,
      );
    }
    return index;
  });
}

/**
 * Params and FLOPs under NAS-Bench-Macro's published convention (checked against all 6,561 rows):
 * FLOPs are the multiply-accumulates of the convolutions and the classifier's weights; params
 * count convolution weights, BatchNorm's scale and shift, and the classifier's weights and bias.
 * ReLU, BatchNorm, pooling and residual adds cost no FLOPs.
 */
export function layeredCounts(
  operators: readonly Operator[],
  features: number,
  classes: number,
): NetworkCounts {
  const macs = operators.reduce((sum, op) => sum + operatorMacs(op), 0) + features * classes;
  const params = operators.reduce((sum, op) => sum + operatorParams(op), 0) + (features + 1) * classes;
  return { paramsM: params / 1e6, flopsM: macs / 1e6 };
}

export function layeredSpace<S extends LayeredSetting>(definition: LayeredDefinition<S>): SearchSpace {
  const { blocks, layers } = definition;
  const radix = blocks.length;
  const size = radix ** layers;
  // Codes are exact integers only while the space fits in 2^53; beyond, keys are the only identity.
  const enumerable = size <= 1e6;
  const settingOf = (dataset: string): S => {
    const found = definition.settings.find((s) => s.name.toLowerCase() === dataset.trim().toLowerCase());
    if (!found) {
      throw new UsageError(
        `unknown dataset '${dataset}' for the ${definition.id} space; expected one of ${definition.settings.map((s) => s.name).join(', ')}`,
      );
    }
    return found;
  };
  const check = (architecture: Architecture): Architecture => {
    if (
      architecture.length !== layers ||
      architecture.some((b) => !Number.isInteger(b) || b < 0 || b >= radix)
    ) {
      throw new RangeError(
        `not a ${definition.id} architecture: [${architecture.join(', ')}]; expected ${layers} block indices in 0..${radix - 1}`,
      );
    }
    return architecture;
  };

  const networkSpec = (architecture: Architecture, request: NetworkRequest): LayeredNetworkSpec => {
    const setting = settingOf(request.dataset);
    return {
      name: definition.id,
      description: `${definition.title} network ${check(architecture)
        .map((b) => blocks[b])
        .join('-')}, ${setting.name}`,
      inputSize: setting.inputSize,
      classes: setting.classes,
      batchSize: request.batchSize,
      seed: request.seed,
      operators: definition.operators(check(architecture), setting),
      foldBatchNorm: !request.unfoldedBatchNorm,
    };
  };

  return {
    id: definition.id,
    title: definition.title,
    datasets: definition.settings.map((s) => s.name),
    positions: layers,
    choices: Array.from({ length: layers }, () => blocks),
    positionLabel: (position) => `layer ${position + 1}`,
    size,
    enumerable,
    noun: 'architecture',
    archColumn: 'arch',

    parse: (text) => parseBlockNames(text, definition),
    format: (architecture) =>
      check(architecture)
        .map((b) => blocks[b])
        .join('-'),
    code(architecture) {
      if (!enumerable)
        throw new RangeError(`the ${definition.id} space is too large for integer codes; use key()`);
      let code = 0;
      for (let p = layers - 1; p >= 0; p--) code = code * radix + check(architecture)[p]!;
      return code;
    },
    fromCode(code) {
      if (!enumerable || !Number.isInteger(code) || code < 0 || code >= size) {
        throw new RangeError(
          `${definition.id} code ${code} out of range: expected an integer in 0..${size - 1}`,
        );
      }
      return Array.from({ length: layers }, (_, p) => Math.floor(code / radix ** p) % radix);
    },
    // One digit per layer, layer 1 first (NAS-Bench-Macro's published `code` column; FBNet's op_idx without spaces).
    key: (architecture) => check(architecture).join(''),

    sample: (random: Random) => Array.from({ length: layers }, () => random.int(radix)),
    neighbours(architecture) {
      check(architecture);
      const out: Architecture[] = [];
      for (let p = 0; p < layers; p++) {
        for (let b = 0; b < radix; b++) {
          if (b !== architecture[p]) out.push(architecture.map((old, q) => (q === p ? b : old)));
        }
      }
      return out;
    },
    isUsable: () => true,
    deployed: (architecture) => check(architecture),

    references: definition.references,
    publicForm: (architecture, dataset) => definition.publicForm(check(architecture), settingOf(dataset)),
    counts(architecture, dataset) {
      const setting = settingOf(dataset);
      const operators = definition.operators(check(architecture), setting);
      return layeredCounts(operators, operators.at(-1)!.outChannels, setting.classes);
    },
    describe(architecture, dataset): ArchitectureRow[] {
      const setting = settingOf(dataset);
      const body = definition.bodyOperators(check(architecture), setting);
      return architecture.map((block, layer) => {
        const ops = body.filter((op) => op.layer === layer);
        return {
          layer: layer + 1,
          ...definition.layerColumns(layer, setting),
          block: blocks[block]!,
          'params (K)': Number((ops.reduce((s, op) => s + operatorParams(op), 0) / 1e3).toFixed(3)),
          'MACs (M)': Number((ops.reduce((s, op) => s + operatorMacs(op), 0) / 1e6).toFixed(3)),
        };
      });
    },
    network: (architecture, request) => buildLayeredNetwork(networkSpec(architecture, request)),
    networkGraph: (architecture, request) => buildLayeredGraph(networkSpec(architecture, request)),
    operators: (architecture, dataset) => definition.bodyOperators(check(architecture), settingOf(dataset)),
  };
}
