/**
 * Symbolic tensors with static shapes. A tensor is a node of the graph: the op that makes it, its inputs and
 * attributes. Graphs are never stored as a whole; they are the set of nodes reachable from some outputs.
 */
import { CareamicsError } from '../errors.js';

export type ElementType = 'float32' | 'int64' | 'bool';

export type AttrValue = number | string | readonly number[] | undefined;
export type Attrs = Readonly<Record<string, AttrValue>>;

let nextId = 0;

export class Tensor {
  readonly id = nextId++;

  constructor(
    readonly op: string,
    readonly inputs: readonly Tensor[],
    readonly attrs: Attrs,
    readonly shape: readonly number[],
    readonly dtype: ElementType,
    /** The data of a `Constant`. */
    readonly value?: Float32Array | BigInt64Array,
    /** The name of a graph `Input`. */
    readonly name?: string,
  ) {}

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get rank(): number {
    return this.shape.length;
  }
}

export class GraphError extends CareamicsError<'GraphError'> {
  constructor(
    message: string,
    readonly op?: string,
  ) {
    super('GraphError', op ? `${op}: ${message}` : message);
  }
}

/** A named graph input of fixed shape. */
export function input(name: string, shape: readonly number[], dtype: ElementType = 'float32'): Tensor {
  return new Tensor('Input', [], {}, [...shape], dtype, undefined, name);
}

/** A float32 constant; becomes an initializer when the graph is exported. */
export function constant(values: ArrayLike<number> | number, shape: readonly number[] = []): Tensor {
  const data = typeof values === 'number' ? Float32Array.of(values) : Float32Array.from(values);
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw new GraphError(`constant has ${data.length} values for shape [${shape}]`, 'Constant');
  }
  return new Tensor('Constant', [], {}, [...shape], 'float32', data);
}

/** A float32 constant of ones. */
export const ones = (shape: readonly number[]): Tensor =>
  constant(new Float32Array(product(shape)).fill(1), shape);

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Numpy broadcasting of two shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op = 'broadcast'): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new GraphError(`cannot broadcast [${a}] with [${b}]`, op);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Normalises possibly negative axes against a rank. */
export function normaliseAxes(axes: readonly number[], rank: number): number[] {
  return axes.map((a) => (a < 0 ? a + rank : a));
}
