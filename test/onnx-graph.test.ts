// The graph builder: unique names, topological serialization, typed initializers and attributes,
// checked by running the serialized bytes in onnxruntime-node.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

import { Graph, attr, serializeModel, topologicalOrder } from '../src/onnx/graph.js';

describe('Graph', () => {
  it('makes names unique', () => {
    const graph = new Graph('g');
    expect(graph.uniqueName('x')).toBe('x');
    expect(graph.uniqueName('x')).toBe('x_1');
    expect(graph.uniqueName('x')).toBe('x_2');
    const input = graph.addInput('x', [1]);
    expect(input).toBe('x_3');
  });

  it('rejects an initializer whose data does not fit its shape', () => {
    expect(() => new Graph('g').addInitializer('w', [2, 3], new Float32Array(5))).toThrow(
      /5 values.*\[2, 3\]/,
    );
  });

  it('serializes nodes added out of order and runs them, with float64 and int64 initializers', async () => {
    const graph = new Graph('g');
    const x = graph.addInput('x', [2, 3]);
    const shape = graph.addInitializer('shape', [2], new BigInt64Array([3n, 2n]));
    const offset = graph.addInitializer('offset', [], new Float64Array([0.5]));
    // The consumer is added before its producer: serialization must reorder them.
    const cast = graph.uniqueName('cast');
    const reshaped = graph.add('Reshape', [cast, shape], { name: 'reshape' });
    graph.addNode('Cast', [x], { name: 'cast', outputs: [cast], attributes: { to: attr.int(11) } });
    const y = graph.add('Add', [reshaped, offset]);
    const z = graph.add('LeakyRelu', [y], { attributes: { alpha: attr.float(0.25) } });
    graph.addOutput(z, [3, 2], 'float64');
    expect(topologicalOrder(graph).map((node) => node.opType)).toEqual([
      'Cast',
      'Reshape',
      'Add',
      'LeakyRelu',
    ]);

    const session = await ort.InferenceSession.create(serializeModel(graph));
    const input = new Float32Array([1, -2, 3, -4, 5, -6]);
    const result = await session.run({ [x]: new ort.Tensor('float32', input, [2, 3]) });
    await session.release();
    expect(result[z]!.dims).toEqual([3, 2]);
    expect(Array.from(result[z]!.data as Float64Array)).toEqual([1.5, -0.375, 3.5, -0.875, 5.5, -1.375]);
  });

  it('reports a node whose input nothing produces', () => {
    const graph = new Graph('g');
    graph.add('Relu', ['missing'], { name: 'orphan' });
    expect(() => serializeModel(graph)).toThrow(/'orphan' needs tensor\(s\) missing/);
  });
});
