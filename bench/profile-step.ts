/**
 * npm run bench:profile — where the time of one training step goes: the N2V default step (16×1×64×64, as
 * `bench:step` times it) run with ONNX Runtime's profiler, its kernel times summed by op type and averaged over
 * the profiled steps (after warm-up). `--3d` profiles the 3D step (8×1×16×64×64). Prints a table, then as its
 * LAST line the JSON (ms per step by op type, and the total).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createModel } from '../src/engine/index.js';
import { DEFAULT_UNET } from '../src/models/index.js';
import { cpuRuntime, round } from './lib.js';

const { values: flags } = parseArgs({
  options: { '3d': { type: 'boolean', default: false }, nodes: { type: 'string', default: '0' } },
});
const WARMUP = 3;
const STEPS = Number(process.env.BENCH_STEPS ?? 10);
const shape = flags['3d'] ? [8, 1, 16, 64, 64] : [16, 1, 64, 64];
const architecture = { ...DEFAULT_UNET, conv_dims: flags['3d'] ? 3 : 2 } as const;

const dir = mkdtempSync(join(tmpdir(), 'careamics-profile-'));
const runtime = {
  ...cpuRuntime,
  sessionOptions: {
    ...cpuRuntime.sessionOptions,
    enableProfiling: true,
    profileFilePrefix: join(dir, 'step'),
  },
};
const size = shape.reduce((a, b) => a * b, 1);
const random = () => Float32Array.from({ length: size }, () => Math.random() * 2 - 1);
const mask = Float32Array.from({ length: size }, () => (Math.random() < 0.002 ? 1 : 0));
const batch = { input: random(), target: random(), mask, shape };

const model = await createModel(runtime, { architecture, loss: 'n2v', seed: 0 });
for (let i = 0; i < WARMUP + STEPS; i++) await model.trainStep(batch);
// Releasing the session writes the trace.
await model.dispose();

interface TraceEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[] };
}
const file = readdirSync(dir).find((f) => f.endsWith('.json'));
if (!file) throw new Error(`no profile written in ${dir}`);
const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as TraceEvent[];
rmSync(dir, { recursive: true });

const runs = events.filter((e) => e.name === 'model_run').sort((a, b) => a.ts - b.ts);
const profiled = runs.slice(WARMUP);
const start = profiled[0]!.ts;
const byOp = new Map<string, { ms: number; nodes: number }>();
const byNode = new Map<string, { op: string; ms: number; inputs: string }>();
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < start) continue;
  const op = e.args?.op_name ?? '?';
  const node = byNode.get(e.name) ?? {
    op,
    ms: 0,
    inputs: (e.args?.input_type_shape ?? []).map((i) => Object.values(i)[0]?.join('×')).join(', '),
  };
  node.ms += e.dur / 1000;
  byNode.set(e.name, node);
  const entry = byOp.get(op) ?? { ms: 0, nodes: 0 };
  entry.ms += e.dur / 1000;
  entry.nodes += 1;
  byOp.set(op, entry);
}
const n = profiled.length;
const stepMs = profiled.reduce((s, r) => s + r.dur, 0) / 1000 / n;
const kernelMs = [...byOp.values()].reduce((s, v) => s + v.ms, 0) / n;
const rows = [...byOp.entries()]
  .map(([op, { ms, nodes }]) => ({
    op,
    nodes: nodes / n,
    msPerStep: round(ms / n),
    share: `${round((100 * ms) / n / kernelMs)}%`,
  }))
  .sort((a, b) => b.msPerStep - a.msPerStep);
console.table(rows);
const slowest = Number(flags.nodes);
if (slowest > 0) {
  const nodes = [...byNode.entries()]
    .map(([name, { op, ms, inputs }]) => ({
      node: name.replace(/_kernel_time$/, ''),
      op,
      msPerStep: round(ms / n),
      inputs,
    }))
    .sort((a, b) => b.msPerStep - a.msPerStep)
    .slice(0, slowest);
  console.table(nodes);
}
console.log(
  JSON.stringify({
    shape,
    steps: n,
    stepMs: round(stepMs),
    kernelMs: round(kernelMs),
    byOp: Object.fromEntries(rows.map((r) => [r.op, r.msPerStep])),
  }),
);
