/**
 * The layered graph of the DAG layout: longest-path layers, a dummy node in every layer an
 * edge crosses (so it can be routed between the boxes there), and barycentre ordering of
 * each layer (sweeps down and up, keeping the order with the fewest crossings). Pure.
 */

/** A step and the steps it depends on, in notebook order. */
export interface IDagInput {
  name: string;
  upstream: string[];
  /** Producer -> the variables this step reads from it (the edge labels). */
  variables?: Record<string, string[]>;
}

/** A box of the layered graph: a step, or a bend point of a long edge (`dummy`). */
export interface ILayerItem {
  id: string;
  dummy: boolean;
  /** The step names of the edge a dummy belongs to. */
  edge?: { from: string; to: string };
}

export interface ILayeredGraph {
  /** Items of each layer, left to right. */
  layers: ILayerItem[][];
  /** Item id -> ids of its neighbours in the layer above / below. */
  up: Map<string, string[]>;
  down: Map<string, string[]>;
  /** `from->to` -> the dummy ids of the edge, top to bottom. */
  chains: Map<string, string[]>;
}

const SWEEPS = 4;

/** Drop unknown and repeated dependencies, self-loops and the edges that close a cycle. */
export function normalizeDag(steps: IDagInput[]): IDagInput[] {
  const known = new Set(steps.map(s => s.name));
  const deps = new Map<string, string[]>();
  const variables = new Map<string, Record<string, string[]> | undefined>();
  for (const step of steps) {
    if (!deps.has(step.name)) {
      const upstream = [...new Set(step.upstream)];
      deps.set(
        step.name,
        upstream.filter(d => known.has(d) && d !== step.name)
      );
      variables.set(step.name, step.variables);
    }
  }
  const kept = new Map<string, string[]>();
  const state = new Map<string, 'active' | 'done'>();
  const visit = (node: string): void => {
    state.set(node, 'active');
    kept.set(node, []);
    for (const dep of deps.get(node) ?? []) {
      if (state.get(dep) === 'active') {
        continue; // closes a cycle
      }
      if (!state.has(dep)) {
        visit(dep);
      }
      kept.get(node)!.push(dep);
    }
    state.set(node, 'done');
  };
  for (const name of deps.keys()) {
    if (!state.has(name)) {
      visit(name);
    }
  }
  return [...deps.keys()].map(name => {
    const vars = variables.get(name);
    return vars
      ? { name, upstream: kept.get(name)!, variables: vars }
      : { name, upstream: kept.get(name)! };
  });
}

/** Step names grouped by depth (longest path from a root), notebook order within a layer. */
export function dagLayers(steps: IDagInput[]): string[][] {
  const graph = normalizeDag(steps);
  const deps = new Map(graph.map(s => [s.name, s.upstream]));
  const depth = new Map<string, number>();
  const level = (node: string): number => {
    let d = depth.get(node);
    if (d === undefined) {
      d = 1 + Math.max(-1, ...(deps.get(node) ?? []).map(level));
      depth.set(node, d);
    }
    return d;
  };
  const layers: string[][] = [];
  for (const { name } of graph) {
    const d = level(name);
    while (layers.length <= d) {
      layers.push([]);
    }
    layers[d].push(name);
  }
  return layers;
}

export function edgeKey(from: string, to: string): string {
  return `${from}->${to}`;
}

function link(map: Map<string, string[]>, key: string, value: string): void {
  map.set(key, [...(map.get(key) ?? []), value]);
}

/** Layers with a dummy node in every layer strictly between an edge's ends. */
export function layeredGraph(graph: IDagInput[]): ILayeredGraph {
  const names = dagLayers(graph);
  const layerOf = new Map<string, number>();
  const layers: ILayerItem[][] = names.map((row, l) =>
    row.map(name => {
      layerOf.set(name, l);
      return { id: name, dummy: false };
    })
  );
  const up = new Map<string, string[]>();
  const down = new Map<string, string[]>();
  const chains = new Map<string, string[]>();
  for (const { name, upstream } of graph) {
    for (const dep of upstream) {
      const key = edgeKey(dep, name);
      const chain: string[] = [];
      let previous = dep;
      for (let l = layerOf.get(dep)! + 1; l < layerOf.get(name)!; l++) {
        const id = `${key}#${l}`;
        layers[l].push({ id, dummy: true, edge: { from: dep, to: name } });
        chain.push(id);
        link(down, previous, id);
        link(up, id, previous);
        previous = id;
      }
      link(down, previous, name);
      link(up, name, previous);
      chains.set(key, chain);
    }
  }
  return { layers: orderLayers(layers, up, down), up, down, chains };
}

/** Edge crossings between two adjacent layers in the given order. */
function crossingsBetween(top: ILayerItem[], bottom: ILayerItem[], down: Map<string, string[]>) {
  const index = new Map(bottom.map((item, i) => [item.id, i]));
  const pairs: [number, number][] = [];
  top.forEach((item, i) => {
    for (const child of down.get(item.id) ?? []) {
      pairs.push([i, index.get(child)!]);
    }
  });
  let count = 0;
  for (let a = 0; a < pairs.length; a++) {
    for (let b = a + 1; b < pairs.length; b++) {
      const [a1, a2] = pairs[a];
      const [b1, b2] = pairs[b];
      if ((a1 - b1) * (a2 - b2) < 0) {
        count++;
      }
    }
  }
  return count;
}

/** All the crossings of a layered order. */
export function countCrossings(layers: ILayerItem[][], down: Map<string, string[]>): number {
  let count = 0;
  for (let l = 0; l + 1 < layers.length; l++) {
    count += crossingsBetween(layers[l], layers[l + 1], down);
  }
  return count;
}

/** Sort `layer` by the mean position of each item's neighbours in `reference` (stable). */
function byBarycentre(
  layer: ILayerItem[],
  reference: ILayerItem[],
  neighbours: Map<string, string[]>
): ILayerItem[] {
  const position = new Map(reference.map((item, i) => [item.id, i]));
  const keyed = layer.map((item, i) => {
    const near = (neighbours.get(item.id) ?? []).filter(n => position.has(n));
    const key = near.length ? near.reduce((sum, n) => sum + position.get(n)!, 0) / near.length : i;
    return { item, key, i };
  });
  keyed.sort((a, b) => a.key - b.key || a.i - b.i);
  return keyed.map(k => k.item);
}

/** Barycentre sweeps down then up; the order with the fewest crossings (first one on ties). */
function orderLayers(
  layers: ILayerItem[][],
  up: Map<string, string[]>,
  down: Map<string, string[]>
): ILayerItem[][] {
  let current = layers.map(row => [...row]);
  let best = current;
  let fewest = countCrossings(current, down);
  for (let sweep = 0; sweep < SWEEPS && fewest > 0; sweep++) {
    const next = current.map(row => [...row]);
    for (let l = 1; l < next.length; l++) {
      next[l] = byBarycentre(next[l], next[l - 1], up);
    }
    for (let l = next.length - 2; l >= 0; l--) {
      next[l] = byBarycentre(next[l], next[l + 1], down);
    }
    const crossings = countCrossings(next, down);
    if (crossings < fewest) {
      best = next;
      fewest = crossings;
    }
    current = next;
  }
  return best;
}
