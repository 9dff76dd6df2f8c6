/**
 * Layered layout of the step DAG, drawn top to bottom (the panel is narrow): layer = the
 * longest path from a step with no dependencies, as `jupyter_mlops/dag.py` does. Pure
 * geometry; `DagView` turns it into SVG.
 */

/** A step and the steps it depends on, in notebook order. */
export interface IDagInput {
  name: string;
  upstream: string[];
}

export interface IDagNode {
  name: string;
  layer: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface IDagEdge {
  from: string;
  to: string;
  /** SVG path data from the bottom of `from` to the top of `to`. */
  path: string;
}

export interface IDagLayout {
  width: number;
  height: number;
  nodes: IDagNode[];
  edges: IDagEdge[];
}

export interface IDagOptions {
  charWidth: number;
  boxHeight: number;
  padX: number;
  minBoxWidth: number;
  gapX: number;
  gapY: number;
  margin: number;
}

export const DEFAULT_DAG_OPTIONS: IDagOptions = {
  charWidth: 7.2,
  boxHeight: 26,
  padX: 10,
  minBoxWidth: 56,
  gapX: 16,
  gapY: 28,
  margin: 6
};

/** Drop unknown and repeated dependencies, self-loops and the edges that close a cycle. */
export function normalizeDag(steps: IDagInput[]): IDagInput[] {
  const known = new Set(steps.map(s => s.name));
  const deps = new Map<string, string[]>();
  for (const step of steps) {
    if (!deps.has(step.name)) {
      const upstream = [...new Set(step.upstream)];
      deps.set(
        step.name,
        upstream.filter(d => known.has(d) && d !== step.name)
      );
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
  return [...deps.keys()].map(name => ({ name, upstream: kept.get(name)! }));
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

/**
 * Order each layer by the mean position of its nodes' parents in the layer above
 * (fewer crossings); ties keep notebook order.
 */
function orderLayers(layers: string[][], deps: Map<string, string[]>): string[][] {
  const ordered: string[][] = [];
  const position = new Map<string, number>();
  layers.forEach((layer, index) => {
    const keyed = layer.map((name, i) => {
      const parents = (deps.get(name) ?? []).filter(p => position.has(p));
      const mean = parents.length
        ? parents.reduce((sum, p) => sum + position.get(p)!, 0) / parents.length
        : i;
      return { name, key: index === 0 ? i : mean, i };
    });
    keyed.sort((a, b) => a.key - b.key || a.i - b.i);
    const names = keyed.map(k => k.name);
    names.forEach((name, i) => position.set(name, i - (names.length - 1) / 2));
    ordered.push(names);
  });
  return ordered;
}

/** Positions of every box and the path of every edge; rows of boxes centred on one axis. */
export function layoutDag(
  steps: IDagInput[],
  options: IDagOptions = DEFAULT_DAG_OPTIONS
): IDagLayout {
  const graph = normalizeDag(steps);
  if (!graph.length) {
    return { width: 0, height: 0, nodes: [], edges: [] };
  }
  const deps = new Map(graph.map(s => [s.name, s.upstream]));
  const layers = orderLayers(dagLayers(graph), deps);
  const boxWidth = (name: string) =>
    Math.max(options.minBoxWidth, Math.ceil(name.length * options.charWidth + 2 * options.padX));
  const rowWidths = layers.map(
    row =>
      row.reduce((sum, name) => sum + boxWidth(name), 0) +
      options.gapX * Math.max(0, row.length - 1)
  );
  const width = Math.max(0, ...rowWidths) + 2 * options.margin;
  const nodes: IDagNode[] = [];
  const byName = new Map<string, IDagNode>();
  layers.forEach((row, layer) => {
    let x = (width - rowWidths[layer]) / 2;
    const y = options.margin + layer * (options.boxHeight + options.gapY);
    for (const name of row) {
      const node = {
        name,
        layer,
        x,
        y,
        width: boxWidth(name),
        height: options.boxHeight
      };
      nodes.push(node);
      byName.set(name, node);
      x += node.width + options.gapX;
    }
  });
  const edges: IDagEdge[] = [];
  for (const { name, upstream } of graph) {
    const to = byName.get(name)!;
    for (const dep of upstream) {
      const from = byName.get(dep)!;
      edges.push({ from: dep, to: name, path: edgePath(from, to) });
    }
  }
  const height = layers.length
    ? 2 * options.margin + layers.length * options.boxHeight + (layers.length - 1) * options.gapY
    : 0;
  return { width: round(width), height: round(height), nodes, edges };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** A vertical S-curve from the bottom centre of `from` to the top centre of `to`. */
function edgePath(from: IDagNode, to: IDagNode): string {
  const x1 = round(from.x + from.width / 2);
  const y1 = round(from.y + from.height);
  const x2 = round(to.x + to.width / 2);
  const y2 = round(to.y);
  const bend = round((y2 - y1) / 2);
  return `M${x1},${y1} C${x1},${round(y1 + bend)} ${x2},${round(y2 - bend)} ${x2},${y2}`;
}
