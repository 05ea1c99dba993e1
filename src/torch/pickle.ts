/**
 * A safe unpickler for what `torch.save` writes: one opcode table, one loop, and an allowlist of globals
 * (`globals.ts`). Nothing is ever imported or executed: a global off the list is refused by name when the
 * GLOBAL opcode names it, before any call. Python dicts become plain objects (keys as strings), tuples and
 * lists arrays, ints numbers (bigints past 2^53), bytes `Uint8Array`s.
 */
import { TorchFileError } from './errors.js';

/** A Python callable the allowlist knows: what REDUCE, NEWOBJ and BUILD do with it. */
export interface Global {
  readonly name: string;
  call(args: unknown[]): unknown;
}

export interface UnpickleOptions {
  /** The global called `module.name`, or `undefined` to refuse it. */
  resolveGlobal(module: string, name: string): Global | undefined;
  /** What a persistent id (BINPERSID) stands for: a storage of the zip archive. */
  persistentLoad(pid: unknown): unknown;
  source: string;
}

/** A Python dict as a plain object; `defineProperty` so that a key called `__proto__` stays a key. */
export function setItem(dict: Record<string, unknown>, key: unknown, value: unknown): void {
  Object.defineProperty(dict, String(key), { value, enumerable: true, writable: true, configurable: true });
}

export const isDict = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

class Reader {
  private position = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): number {
    if (this.position + n > this.bytes.length) {
      throw new TorchFileError(`${this.source}: the pickle ends early (truncated file)`);
    }
    const at = this.position;
    this.position += n;
    return at;
  }

  get offset() {
    return this.position;
  }

  u8 = () => this.bytes[this.need(1)]!;
  u16 = () => this.view.getUint16(this.need(2), true);
  i32 = () => this.view.getInt32(this.need(4), true);
  u32 = () => this.view.getUint32(this.need(4), true);
  u64 = () => Number(this.view.getBigUint64(this.need(8), true));
  f64 = () => this.view.getFloat64(this.need(8), false);
  take = (n: number) => this.bytes.subarray(this.need(n), this.position);
  utf8 = (n: number) => new TextDecoder('utf-8', { fatal: true }).decode(this.take(n));
  latin1 = (n: number) => String.fromCharCode(...this.take(n));
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.position);
    if (end < 0) throw new TorchFileError(`${this.source}: the pickle ends early (truncated file)`);
    return this.latin1(end - this.position + 1).slice(0, -1);
  }
}

/** A little-endian two's-complement integer of any length (LONG1, LONG4). */
function littleEndianInteger(bytes: Uint8Array): number | bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  if (bytes.length > 0 && bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}

interface Machine {
  stack: unknown[];
  marks: number[];
  memo: Map<number, unknown>;
  read: Reader;
  options: UnpickleOptions;
}

const push = (m: Machine, v: unknown) => m.stack.push(v);
const pop = (m: Machine) => m.stack.pop();
const top = (m: Machine) => m.stack[m.stack.length - 1];
function popMark(m: Machine): unknown[] {
  const at = m.marks.pop();
  if (at === undefined) throw new TorchFileError(`${m.options.source}: the pickle pops a missing mark`);
  return m.stack.splice(at);
}
function get(m: Machine, index: number): unknown {
  if (!m.memo.has(index))
    throw new TorchFileError(`${m.options.source}: the pickle reads memo ${index}, never set`);
  return m.memo.get(index);
}
function global(m: Machine, module: string, name: string): Global {
  const found = m.options.resolveGlobal(module, name);
  if (!found) {
    throw new TorchFileError(
      `${m.options.source}: the pickle refers to ${module}.${name}, which is not allowed (only tensors, state dicts and plain data load)`,
      { global: `${module}.${name}` },
    );
  }
  return found;
}
function callable(m: Machine, f: unknown): Global {
  if (typeof f !== 'object' || f === null || !('call' in f)) {
    throw new TorchFileError(`${m.options.source}: the pickle calls something that is not an allowed global`);
  }
  return f as Global;
}
function setItems(m: Machine, dict: unknown, items: unknown[]): void {
  if (!isDict(dict)) throw new TorchFileError(`${m.options.source}: the pickle sets items on a non-dict`);
  for (let i = 0; i + 1 < items.length; i += 2) setItem(dict, items[i], items[i + 1]);
}
function appendTo(m: Machine, list: unknown, items: unknown[]): void {
  if (!Array.isArray(list)) throw new TorchFileError(`${m.options.source}: the pickle appends to a non-list`);
  list.push(...items);
}

/** Each opcode (by its byte) and what it does: the whole of the pickle machine we accept. */
const OPCODES: Record<number, (m: Machine) => void> = {
  128: (m) => void m.read.u8(), // PROTO
  149: (m) => void m.read.u64(), // FRAME
  40: (m) => void m.marks.push(m.stack.length), // MARK
  48: (m) => void pop(m), // POP
  49: (m) => void popMark(m), // POP_MARK
  50: (m) => push(m, top(m)), // DUP
  78: (m) => push(m, null), // NONE
  136: (m) => push(m, true), // NEWTRUE
  137: (m) => push(m, false), // NEWFALSE
  74: (m) => push(m, m.read.i32()), // BININT
  75: (m) => push(m, m.read.u8()), // BININT1
  77: (m) => push(m, m.read.u16()), // BININT2
  138: (m) => push(m, littleEndianInteger(m.read.take(m.read.u8()))), // LONG1
  139: (m) => push(m, littleEndianInteger(m.read.take(m.read.i32()))), // LONG4
  71: (m) => push(m, m.read.f64()), // BINFLOAT
  88: (m) => push(m, m.read.utf8(m.read.u32())), // BINUNICODE
  140: (m) => push(m, m.read.utf8(m.read.u8())), // SHORT_BINUNICODE
  141: (m) => push(m, m.read.utf8(m.read.u64())), // BINUNICODE8
  84: (m) => push(m, m.read.latin1(m.read.i32())), // BINSTRING
  85: (m) => push(m, m.read.latin1(m.read.u8())), // SHORT_BINSTRING
  67: (m) => push(m, m.read.take(m.read.u8()).slice()), // SHORT_BINBYTES
  66: (m) => push(m, m.read.take(m.read.u32()).slice()), // BINBYTES
  142: (m) => push(m, m.read.take(m.read.u64()).slice()), // BINBYTES8
  125: (m) => push(m, {}), // EMPTY_DICT
  93: (m) => push(m, []), // EMPTY_LIST
  41: (m) => push(m, []), // EMPTY_TUPLE
  143: (m) => push(m, []), // EMPTY_SET (a set reads as an array)
  116: (m) => push(m, popMark(m)), // TUPLE
  133: (m) => push(m, m.stack.splice(-1)), // TUPLE1
  134: (m) => push(m, m.stack.splice(-2)), // TUPLE2
  135: (m) => push(m, m.stack.splice(-3)), // TUPLE3
  108: (m) => push(m, popMark(m)), // LIST
  100: (m) => {
    const items = popMark(m);
    const dict = {};
    setItems(m, dict, items);
    push(m, dict);
  }, // DICT
  145: (m) => push(m, popMark(m)), // FROZENSET
  97: (m) => {
    const item = pop(m);
    appendTo(m, top(m), [item]);
  }, // APPEND
  101: (m) => {
    const items = popMark(m);
    appendTo(m, top(m), items);
  }, // APPENDS
  144: (m) => {
    const items = popMark(m);
    appendTo(m, top(m), items);
  }, // ADDITEMS
  115: (m) => {
    const value = pop(m);
    const key = pop(m);
    setItems(m, top(m), [key, value]);
  }, // SETITEM
  117: (m) => {
    const items = popMark(m);
    setItems(m, top(m), items);
  }, // SETITEMS
  113: (m) => void m.memo.set(m.read.u8(), top(m)), // BINPUT
  114: (m) => void m.memo.set(m.read.u32(), top(m)), // LONG_BINPUT
  148: (m) => void m.memo.set(m.memo.size, top(m)), // MEMOIZE
  104: (m) => push(m, get(m, m.read.u8())), // BINGET
  106: (m) => push(m, get(m, m.read.u32())), // LONG_BINGET
  99: (m) => push(m, global(m, m.read.line(), m.read.line())), // GLOBAL
  147: (m) => {
    const name = pop(m);
    const module = pop(m);
    push(m, global(m, String(module), String(name)));
  }, // STACK_GLOBAL
  82: (m) => {
    const args = pop(m) as unknown[];
    push(m, callable(m, pop(m)).call(args));
  }, // REDUCE
  129: (m) => {
    const args = pop(m) as unknown[];
    push(m, callable(m, pop(m)).call(args));
  }, // NEWOBJ
  98: (m) => {
    const state = pop(m);
    const object = top(m);
    // Attributes set on a dict (a state dict's `_metadata`) and a numpy dtype's state carry nothing we read.
    if (isDict(object) && isDict(state)) return;
    if (isDict(object) || (typeof object === 'object' && object !== null && 'numpyDtype' in object)) return;
    throw new TorchFileError(`${m.options.source}: the pickle sets the state of an object it may not build`);
  }, // BUILD
  81: (m) => push(m, m.options.persistentLoad(pop(m))), // BINPERSID
};

/** The value a pickle (protocol 2 to 5, binary opcodes only) describes, built only from allowed globals. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): unknown {
  const m: Machine = {
    stack: [],
    marks: [],
    memo: new Map(),
    read: new Reader(bytes, options.source),
    options,
  };
  for (;;) {
    const at = m.read.offset;
    const code = m.read.u8();
    if (code === 0x2e) break; // STOP
    const op = OPCODES[code];
    if (!op) {
      throw new TorchFileError(
        `${options.source}: pickle opcode 0x${code.toString(16)} at byte ${at} is not supported`,
      );
    }
    op(m);
  }
  if (m.stack.length !== 1)
    throw new TorchFileError(`${options.source}: the pickle leaves ${m.stack.length} values`);
  return m.stack[0];
}
