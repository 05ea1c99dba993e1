/**
 * The pickle of a state dict, protocol 2 with GLOBAL opcodes, as `torch.save` writes it: an `OrderedDict` of
 * `_rebuild_tensor_v2(storage, 0, shape, stride, False, OrderedDict())`, each storage a persistent id
 * `('storage', torch.FloatStorage, key, 'cpu', numel)`.
 */
/** A tensor to write: float32, or int64 (batch norm's `num_batches_tracked`). */
export interface StateDictTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

class PickleWriter {
  private readonly chunks: number[] = [];

  op(code: number): this {
    this.chunks.push(code);
    return this;
  }

  private u32(n: number) {
    this.chunks.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }

  global(module: string, name: string): this {
    this.op(0x63);
    for (const c of `${module}\n${name}\n`) this.chunks.push(c.charCodeAt(0));
    return this;
  }

  string(s: string): this {
    const bytes = new TextEncoder().encode(s);
    this.op(0x58).u32(bytes.length);
    this.chunks.push(...bytes);
    return this;
  }

  int(n: number): this {
    this.op(0x4a).u32(n);
    return this;
  }

  tuple(items: readonly number[]): this {
    this.op(0x28);
    for (const n of items) this.int(n);
    return this.op(0x74);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

const contiguousStrides = (shape: readonly number[]) =>
  shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));

export function pickleStateDict(tensors: Record<string, StateDictTensor>): Uint8Array {
  const w = new PickleWriter();
  const MARK = 0x28;
  const EMPTY_TUPLE = 0x29;
  const REDUCE = 0x52;
  w.op(0x80).op(2);
  w.global('collections', 'OrderedDict').op(EMPTY_TUPLE).op(REDUCE).op(MARK);
  Object.entries(tensors).forEach(([name, t], key) => {
    w.string(name);
    w.global('torch._utils', '_rebuild_tensor_v2').op(MARK);
    w.op(MARK)
      .string('storage')
      .global('torch', t.data instanceof BigInt64Array ? 'LongStorage' : 'FloatStorage');
    w.string(String(key)).string('cpu').int(t.data.length).op(0x74).op(0x51); // TUPLE, BINPERSID
    w.int(0).tuple(t.shape).tuple(contiguousStrides(t.shape)).op(0x89); // offset, size, stride, NEWFALSE
    w.global('collections', 'OrderedDict').op(EMPTY_TUPLE).op(REDUCE); // backward hooks
    w.op(0x74).op(REDUCE); // TUPLE, REDUCE
  });
  return w.op(0x75).op(0x2e).bytes(); // SETITEMS, STOP
}
