// A small typed ONNX graph builder. Graphs stay plain, editable objects (nodes, initializers,
// inputs, outputs) until `serializeModel`, so other modules can add nodes and extra outputs to a
// built network (e.g. expose the tensors entering each ReLU) before turning it into bytes.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Opset of the default ONNX domain; ORT 1.30 supports it and it has every op we emit. */
export const ONNX_OPSET = 17;
/** IR version 8 is the newest one the bundled onnx-proto (ONNX 1.10) schema describes. */
export const ONNX_IR_VERSION = 8;

export type ElementType = 'float32' | 'float64' | 'int64';

const ELEMENT_TYPE_CODES: Readonly<Record<ElementType, number>> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
};

export type TensorData = Float32Array | Float64Array | BigInt64Array;

/** A constant tensor stored in the model (weights, BatchNorm statistics, shape constants). */
export interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  data: TensorData;
}

/** A graph input or output: a named tensor with a static shape. */
export interface ValueInfo {
  readonly name: string;
  readonly elementType: ElementType;
  readonly dims: readonly number[];
}

export type AttributeValue =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string };

/** Shorthands so call sites read `{ strides: attr.ints([2, 2]) }`. */
export const attr = {
  int: (value: number): AttributeValue => ({ kind: 'int', value }),
  ints: (value: readonly number[]): AttributeValue => ({ kind: 'ints', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  floats: (value: readonly number[]): AttributeValue => ({ kind: 'floats', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
};

export interface GraphNode {
  readonly name: string;
  readonly opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
}

export interface NodeSpec {
  /** Prefix for the node name and, when `outputs` is absent, its single output tensor. */
  readonly name?: string;
  readonly outputs?: readonly string[];
  readonly attributes?: Record<string, AttributeValue>;
}

/**
 * An ONNX graph under construction. Names are made unique by `uniqueName`; nodes may be added in
 * any order because serialization sorts them topologically.
 */
export class Graph {
  readonly nodes: GraphNode[] = [];
  readonly initializers = new Map<string, Initializer>();
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private readonly usedNames = new Set<string>();
  private readonly nameCounters = new Map<string, number>();

  constructor(readonly name: string) {}

  /** `base` itself when still free, else `base_1`, `base_2`, ... */
  uniqueName(base: string): string {
    let candidate = base;
    let counter = this.nameCounters.get(base) ?? 0;
    while (this.usedNames.has(candidate)) candidate = `${base}_${++counter}`;
    this.nameCounters.set(base, counter);
    this.usedNames.add(candidate);
    return candidate;
  }

  /** Declares a graph input; returns its tensor name. */
  addInput(name: string, dims: readonly number[], elementType: ElementType = 'float32'): string {
    const unique = this.uniqueName(name);
    this.inputs.push({ name: unique, dims: [...dims], elementType });
    return unique;
  }

  /** Marks an existing tensor as a graph output (e.g. an intermediate activation to read back). */
  addOutput(tensor: string, dims: readonly number[], elementType: ElementType = 'float32'): void {
    if (this.outputs.some((output) => output.name === tensor)) return;
    this.outputs.push({ name: tensor, dims: [...dims], elementType });
  }

  /** Adds a constant tensor; returns its (unique) name. */
  addInitializer(name: string, dims: readonly number[], data: TensorData): string {
    const expected = dims.reduce((product, d) => product * d, 1);
    if (data.length !== expected) {
      throw new RangeError(
        `initializer '${name}': ${data.length} values for shape [${dims.join(', ')}] (${expected} expected)`,
      );
    }
    const unique = this.uniqueName(name);
    this.initializers.set(unique, { name: unique, dims: [...dims], data });
    return unique;
  }

  /** Adds a node; returns its output tensor names (one fresh name unless `spec.outputs` is given). */
  addNode(opType: string, inputs: readonly string[], spec: NodeSpec = {}): string[] {
    const nodeName = this.uniqueName(spec.name ?? opType);
    const outputs = spec.outputs ? [...spec.outputs] : [this.uniqueName(`${nodeName}_out`)];
    for (const output of outputs) this.usedNames.add(output);
    this.nodes.push({
      name: nodeName,
      opType,
      inputs: [...inputs],
      outputs,
      attributes: { ...(spec.attributes ?? {}) },
    });
    return outputs;
  }

  /** Single-output convenience over `addNode`. */
  add(opType: string, inputs: readonly string[], spec: NodeSpec = {}): string {
    return this.addNode(opType, inputs, spec)[0]!;
  }

  /** The node that produces `tensor`, if any. */
  producerOf(tensor: string): GraphNode | undefined {
    return this.nodes.find((node) => node.outputs.includes(tensor));
  }

  /** Nodes that read `tensor`. */
  consumersOf(tensor: string): GraphNode[] {
    return this.nodes.filter((node) => node.inputs.includes(tensor));
  }

  /** Makes every node and graph output that read `from` read `to` instead. */
  rewire(from: string, to: string): void {
    for (const node of this.nodes) node.inputs = node.inputs.map((input) => (input === from ? to : input));
    this.outputs.forEach((output, i) => {
      if (output.name === from) this.outputs[i] = { ...output, name: to };
    });
  }

  /**
   * Removes a single-output node and routes its consumers to its first input (e.g. bypass a
   * BatchNormalization, as synflow does). Initializers only it used are dropped too.
   */
  bypassNode(nodeName: string): void {
    const index = this.nodes.findIndex((node) => node.name === nodeName);
    const node = this.nodes[index];
    if (!node) throw new Error(`graph '${this.name}': no node named '${nodeName}'`);
    if (node.outputs.length !== 1 || node.inputs.length === 0) {
      throw new Error(`graph '${this.name}': cannot bypass '${nodeName}' (needs one input and one output)`);
    }
    this.nodes.splice(index, 1);
    this.rewire(node.outputs[0]!, node.inputs[0]!);
    for (const input of node.inputs.slice(1)) {
      if (this.initializers.has(input) && this.consumersOf(input).length === 0)
        this.initializers.delete(input);
    }
  }
}

/** Nodes in an order where every input is produced before it is consumed (stable for ties). */
export function topologicalOrder(graph: Graph): GraphNode[] {
  const available = new Set<string>([...graph.inputs.map((i) => i.name), ...graph.initializers.keys()]);
  const pending = [...graph.nodes];
  const ordered: GraphNode[] = [];
  while (pending.length > 0) {
    const before = pending.length;
    for (let i = 0; i < pending.length;) {
      const node = pending[i]!;
      if (node.inputs.every((input) => input === '' || available.has(input))) {
        ordered.push(node);
        for (const output of node.outputs) available.add(output);
        pending.splice(i, 1);
      } else {
        i++;
      }
    }
    if (pending.length === before) {
      const missing = pending[0]!.inputs.filter((input) => input !== '' && !available.has(input));
      throw new Error(
        `graph '${graph.name}': node '${pending[0]!.name}' needs tensor(s) ${missing.join(', ')} that nothing produces (or a cycle)`,
      );
    }
  }
  return ordered;
}

function tensorProto(initializer: Initializer): onnxProto.onnx.TensorProto {
  const { data } = initializer;
  const elementType: ElementType =
    data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64' : 'int64';
  // Raw little-endian bytes: far smaller and faster to encode than repeated float fields.
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return onnx.TensorProto.create({
    name: initializer.name,
    dims: [...initializer.dims],
    dataType: ELEMENT_TYPE_CODES[elementType],
    rawData: bytes,
  });
}

function valueInfoProto(info: ValueInfo): onnxProto.onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name: info.name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPE_CODES[info.elementType],
        shape: { dim: info.dims.map((dimValue) => ({ dimValue })) },
      },
    },
  });
}

function attributeProto(name: string, value: AttributeValue): onnxProto.onnx.AttributeProto {
  const type = onnx.AttributeProto.AttributeType;
  switch (value.kind) {
    case 'int':
      return onnx.AttributeProto.create({ name, type: type.INT, i: value.value });
    case 'ints':
      return onnx.AttributeProto.create({ name, type: type.INTS, ints: [...value.value] });
    case 'float':
      return onnx.AttributeProto.create({ name, type: type.FLOAT, f: value.value });
    case 'floats':
      return onnx.AttributeProto.create({ name, type: type.FLOATS, floats: [...value.value] });
    case 'string':
      return onnx.AttributeProto.create({
        name,
        type: type.STRING,
        s: new TextEncoder().encode(value.value),
      });
  }
}

/** The graph as an ONNX ModelProto (nodes topologically sorted). */
export function toModelProto(graph: Graph, docString = ''): onnxProto.onnx.ModelProto {
  const nodes = topologicalOrder(graph).map((node) =>
    onnx.NodeProto.create({
      name: node.name,
      opType: node.opType,
      input: node.inputs,
      output: node.outputs,
      attribute: Object.entries(node.attributes).map(([name, value]) => attributeProto(name, value)),
    }),
  );
  return onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    producerName: 'simnas',
    docString,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: {
      name: graph.name,
      node: nodes,
      initializer: [...graph.initializers.values()].map(tensorProto),
      input: graph.inputs.map(valueInfoProto),
      output: graph.outputs.map(valueInfoProto),
    },
  });
}

/** Serialized ONNX model bytes, ready for `InferenceSession.create`. */
export function serializeModel(graph: Graph, docString = ''): Uint8Array {
  return onnx.ModelProto.encode(toModelProto(graph, docString)).finish();
}
