/**
 * Layout of the step DAG, drawn top to bottom (the panel is narrow): the layered graph of
 * `dagOrder.ts` (longest-path layers as `jupyter_mlops/pipeline/dag.py`, barycentre order,
 * dummy points for long edges) placed on rows; every edge is routed through the gaps
 * between the rows and through its own slot in each row it crosses, so it never passes
 * over a box; its label (the variables it carries) sits in a gap between rows, away from
 * the other labels where there is room. Pure geometry; `DagView` turns it into SVG.
 */

import { edgeKey, IDagInput, ILayerItem, layeredGraph, normalizeDag } from './dagOrder';

export { dagLayers, normalizeDag } from './dagOrder';
export type { IDagInput } from './dagOrder';

export interface IPoint {
  x: number;
  y: number;
}

export interface IBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface IDagNode extends IBox {
  name: string;
  layer: number;
}

export interface IDagEdge {
  from: string;
  to: string;
  /** The bend points, from the bottom of `from` to the top of `to`. */
  points: IPoint[];
  /** SVG path data through `points` (curves between rows, straight within a row). */
  path: string;
  /** The variables flowing along the edge, comma-separated ('' when unknown). */
  label: string;
  /** Where the label's text box sits (centre at x + width / 2); null without a label. */
  labelBox: IBox | null;
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
  /** Room on a box for the state icon. */
  iconWidth: number;
  minBoxWidth: number;
  /** The width of the slot a long edge takes in a row it crosses. */
  dummyWidth: number;
  gapX: number;
  gapY: number;
  margin: number;
  labelCharWidth: number;
  labelHeight: number;
}

export const DEFAULT_DAG_OPTIONS: IDagOptions = {
  charWidth: 7.2,
  boxHeight: 26,
  padX: 8,
  iconWidth: 16,
  minBoxWidth: 56,
  dummyWidth: 8,
  gapX: 16,
  gapY: 40,
  margin: 6,
  labelCharWidth: 6,
  labelHeight: 12
};

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function overlaps(a: IBox, b: IBox): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Positions of every box and the route and label of every edge. */
export function layoutDag(
  steps: IDagInput[],
  options: IDagOptions = DEFAULT_DAG_OPTIONS
): IDagLayout {
  const graph = normalizeDag(steps);
  if (!graph.length) {
    return { width: 0, height: 0, nodes: [], edges: [] };
  }
  const layered = layeredGraph(graph);
  const widthOf = (item: ILayerItem) =>
    item.dummy
      ? options.dummyWidth
      : Math.max(
          options.minBoxWidth,
          Math.ceil(item.id.length * options.charWidth + 2 * options.padX + options.iconWidth)
        );
  const centres = placeRows(layered.layers, layered.up, layered.down, widthOf, options.gapX);
  const left = Math.min(
    ...layered.layers.flat().map(item => centres.get(item.id)! - widthOf(item) / 2)
  );
  const right = Math.max(
    ...layered.layers.flat().map(item => centres.get(item.id)! + widthOf(item) / 2)
  );
  const shift = options.margin - left;
  const width = right - left + 2 * options.margin;
  const rowY = (layer: number) => options.margin + layer * (options.boxHeight + options.gapY);
  const x = (id: string) => round(centres.get(id)! + shift);
  const nodes: IDagNode[] = [];
  layered.layers.forEach((row, layer) =>
    row
      .filter(item => !item.dummy)
      .forEach(item => {
        const w = widthOf(item);
        nodes.push({
          name: item.id,
          layer,
          x: round(x(item.id) - w / 2),
          y: rowY(layer),
          width: w,
          height: options.boxHeight
        });
      })
  );
  const byName = new Map(nodes.map(n => [n.name, n]));
  const routes: { from: string; to: string; points: IPoint[]; variables: string[] }[] = [];
  for (const { name, upstream, variables } of graph) {
    for (const dep of upstream) {
      const chain = layered.chains.get(edgeKey(dep, name))!;
      const points: IPoint[] = [];
      chain.forEach(id => {
        const layer = Number(id.slice(id.lastIndexOf('#') + 1));
        points.push({ x: x(id), y: rowY(layer) }, { x: x(id), y: rowY(layer) + options.boxHeight });
      });
      routes.push({ from: dep, to: name, points, variables: variables?.[dep] ?? [] });
    }
  }
  attachPorts(routes, byName);
  const height = rowY(layered.layers.length - 1) + options.boxHeight + options.margin;
  const placed: IBox[] = [];
  const edges = routes.map(route => {
    const label = [...route.variables].sort().join(', ');
    const labelBox = label ? placeLabel(route.points, label, placed, width, options) : null;
    if (labelBox) {
      placed.push(labelBox);
    }
    return {
      from: route.from,
      to: route.to,
      points: route.points,
      path: edgePath(route.points),
      label,
      labelBox
    };
  });
  return { width: round(width), height: round(height), nodes, edges };
}

/**
 * Centre x of every item: rows packed left to right in their order, then pulled towards
 * the mean centre of their neighbours above, below, and above again (order and gaps kept).
 */
function placeRows(
  layers: ILayerItem[][],
  up: Map<string, string[]>,
  down: Map<string, string[]>,
  widthOf: (item: ILayerItem) => number,
  gapX: number
): Map<string, number> {
  const centres = new Map<string, number>();
  const pack = (row: ILayerItem[], wanted: (item: ILayerItem) => number) => {
    let right = -Infinity;
    const placed = row.map(item => {
      const w = widthOf(item);
      const c = Math.max(wanted(item), right + gapX + w / 2);
      right = c + w / 2;
      return c;
    });
    // Shift the row back so its items sit around what they want on average.
    const drift = placed.reduce((sum, c, i) => sum + c - wanted(row[i]), 0) / row.length;
    row.forEach((item, i) => centres.set(item.id, placed[i] - drift));
  };
  for (const row of layers) {
    let cursor = 0;
    pack(row, item => {
      const c = cursor + widthOf(item) / 2;
      cursor += widthOf(item) + gapX;
      return c;
    });
  }
  const towards = (neighbours: Map<string, string[]>) => (item: ILayerItem) => {
    const near = neighbours.get(item.id) ?? [];
    return near.length
      ? near.reduce((sum, n) => sum + centres.get(n)!, 0) / near.length
      : centres.get(item.id)!;
  };
  const sweep = (from: number, to: number, step: number, neighbours: Map<string, string[]>) => {
    for (let l = from; l !== to; l += step) {
      pack(layers[l], towards(neighbours));
    }
  };
  sweep(1, layers.length, 1, up);
  sweep(layers.length - 2, -1, -1, down);
  sweep(1, layers.length, 1, up);
  return centres;
}

/**
 * Start and end every route on its boxes: the edges leaving a box spread along its bottom,
 * those entering one along its top, each side ordered by where the edges go.
 */
function attachPorts(
  routes: { from: string; to: string; points: IPoint[] }[],
  byName: Map<string, IDagNode>
): void {
  const centre = (name: string) => byName.get(name)!.x + byName.get(name)!.width / 2;
  const outward = routes.map(r => (r.points.length ? r.points[0].x : centre(r.to)));
  const inward = routes.map(r =>
    r.points.length ? r.points[r.points.length - 1].x : centre(r.from)
  );
  const port = (node: IDagNode, index: number, count: number) =>
    round(node.x + (node.width * (index + 1)) / (count + 1));
  const starts: IPoint[] = [];
  const ends: IPoint[] = [];
  for (const node of byName.values()) {
    const leaving = routes.map((r, i) => i).filter(i => routes[i].from === node.name);
    leaving.sort((a, b) => outward[a] - outward[b] || a - b);
    leaving.forEach(
      (i, k) => (starts[i] = { x: port(node, k, leaving.length), y: node.y + node.height })
    );
    const entering = routes.map((r, i) => i).filter(i => routes[i].to === node.name);
    entering.sort((a, b) => inward[a] - inward[b] || a - b);
    entering.forEach((i, k) => (ends[i] = { x: port(node, k, entering.length), y: node.y }));
  }
  routes.forEach((route, i) => {
    route.points = [starts[i], ...route.points, ends[i]];
  });
}

/** A point of the S-curve drawn between two points of consecutive rows. */
function curvePoint(a: IPoint, b: IPoint, t: number): IPoint {
  const mid = (a.y + b.y) / 2;
  const s = 1 - t;
  return {
    x: s * s * s * a.x + 3 * s * s * t * a.x + 3 * s * t * t * b.x + t * t * t * b.x,
    y: s * s * s * a.y + 3 * s * s * t * mid + 3 * s * t * t * mid + t * t * t * b.y
  };
}

/** The point of the S-curve from `a` to `b` at height `y` (between theirs). */
function curveAt(a: IPoint, b: IPoint, y: number): IPoint {
  let [low, high] = [0, 1];
  for (let i = 0; i < 30; i++) {
    const t = (low + high) / 2;
    if (curvePoint(a, b, t).y < y) {
      low = t;
    } else {
      high = t;
    }
  }
  return curvePoint(a, b, (low + high) / 2);
}

/**
 * The label's box on one of the edge's gaps between rows (the last one first), in the
 * middle, top or bottom slot of the gap, over the curve: the first that does not cover a
 * label already placed. Inside the gap, so never on a box.
 */
function placeLabel(
  points: IPoint[],
  label: string,
  placed: IBox[],
  width: number,
  options: IDagOptions
): IBox {
  const w = Math.ceil(label.length * options.labelCharWidth + 4);
  const h = options.labelHeight;
  const candidates: IBox[] = [];
  for (let i = points.length - 2; i >= 0; i -= 2) {
    const [a, b] = [points[i], points[i + 1]];
    const slots = [(a.y + b.y - h) / 2, a.y + 1, b.y - h - 1];
    for (const top of slots) {
      const p = curveAt(a, b, top + h / 2);
      candidates.push({
        x: round(Math.min(Math.max(p.x - w / 2, 0), Math.max(0, width - w))),
        y: round(top),
        width: w,
        height: h
      });
    }
  }
  return candidates.find(c => !placed.some(p => overlaps(c, p))) ?? candidates[0];
}

/** Curves across the gaps between rows, straight lines down a row an edge crosses. */
function edgePath(points: IPoint[]): string {
  let path = `M${points[0].x},${points[0].y}`;
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    if (i % 2 === 1) {
      const mid = round((a.y + b.y) / 2);
      path += ` C${a.x},${mid} ${b.x},${mid} ${b.x},${b.y}`;
    } else {
      path += ` L${b.x},${b.y}`;
    }
  }
  return path;
}
