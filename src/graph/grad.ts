/** Reverse-mode differentiation: one reverse topological walk over the gradient rules in `VJPS`. */
import { add } from './ops.js';
import { GraphError, ones, sameShape, type Tensor } from './tensor.js';
import { VJPS } from './vjps.js';

/** Nodes reachable from `outputs`, inputs before the nodes that use them. */
export function topologicalOrder(outputs: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<number>();
  const stack: [Tensor, boolean][] = outputs.map((t) => [t, false]);
  while (stack.length > 0) {
    const [node, expanded] = stack.pop()!;
    if (expanded) {
      order.push(node);
      continue;
    }
    if (seen.has(node.id)) continue;
    seen.add(node.id);
    stack.push([node, true]);
    for (const inp of node.inputs) if (!seen.has(inp.id)) stack.push([inp, false]);
  }
  return order;
}

/**
 * Gradients of the scalar `loss` with respect to each of `wrt`. Only nodes on a path from `wrt` to `loss`
 * are differentiated, and each rule is asked only for the input gradients that lead somewhere.
 */
export function grad(loss: Tensor, wrt: readonly Tensor[]): Tensor[] {
  if (loss.size !== 1) throw new GraphError(`loss must be a scalar, got shape [${loss.shape}]`, 'grad');
  const order = topologicalOrder([loss]);
  const targets = new Set(wrt.map((t) => t.id));
  const requires = new Set<number>();
  for (const node of order) {
    if (targets.has(node.id) || node.inputs.some((i) => requires.has(i.id))) requires.add(node.id);
  }
  const grads = new Map<number, Tensor>([[loss.id, ones(loss.shape)]]);
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    const g = grads.get(node.id);
    if (!g || node.inputs.length === 0) continue;
    const needs = node.inputs.map((inp) => requires.has(inp.id));
    if (!needs.some(Boolean)) continue;
    const rule = VJPS[node.op];
    if (!rule) throw new GraphError('has no gradient rule', node.op);
    const inputGrads = rule(g, node, needs);
    node.inputs.forEach((inp, k) => {
      const gi = inputGrads[k];
      if (!needs[k] || !gi) return;
      if (!sameShape(gi.shape, inp.shape)) {
        throw new GraphError(`gradient shape [${gi.shape}] ≠ input shape [${inp.shape}]`, node.op);
      }
      const prev = grads.get(inp.id);
      grads.set(inp.id, prev ? add(prev, gi) : gi);
    });
  }
  return wrt.map((t) => {
    const g = grads.get(t.id);
    if (!g) throw new GraphError('a requested tensor does not influence the loss', 'grad');
    return g;
  });
}
