import * as fs from 'fs';
import * as path from 'path';

import {
  dagLayers,
  DEFAULT_DAG_OPTIONS,
  IBox,
  IDagInput,
  IDagLayout,
  IPoint,
  layoutDag,
  normalizeDag
} from '../dag';
import { countCrossings, layeredGraph } from '../dagOrder';
import { dagInput, parsePipelineReply, stepRows } from '../pipeline';
import { IPipelineJSON } from '../types';

function exampleDag(name: string): IDagInput[] {
  const file = path.join(__dirname, 'fixtures', `${name}.show.json`);
  const reply = parsePipelineReply(JSON.parse(fs.readFileSync(file, 'utf-8')));
  return dagInput(stepRows(reply as IPipelineJSON));
}

describe('layers', () => {
  it('matches the layering of jupyter mlops show for the regression example', () => {
    expect(dagLayers(exampleDag('regression'))).toEqual([
      ['load_data'],
      ['split'],
      ['train_ridge', 'train_forest'],
      ['evaluate_ridge', 'evaluate_forest'],
      ['compare']
    ]);
  });

  it('puts a step below its deepest dependency (longest path)', () => {
    const layers = dagLayers([
      { name: 'a', upstream: [] },
      { name: 'b', upstream: ['a'] },
      { name: 'c', upstream: ['a', 'b'] }
    ]);
    expect(layers).toEqual([['a'], ['b'], ['c']]);
  });

  it('ignores unknown and repeated dependencies and self-loops', () => {
    expect(
      normalizeDag([
        { name: 'a', upstream: ['a', 'ghost'] },
        { name: 'b', upstream: ['a', 'a'] }
      ])
    ).toEqual([
      { name: 'a', upstream: [] },
      { name: 'b', upstream: ['a'] }
    ]);
  });

  it('breaks a cycle instead of failing', () => {
    const layers = dagLayers([
      { name: 'a', upstream: ['c'] },
      { name: 'b', upstream: ['a'] },
      { name: 'c', upstream: ['b'] }
    ]);
    expect(layers.flat().sort()).toEqual(['a', 'b', 'c']);
    expect(layers).toHaveLength(3);
  });
});

describe('layout', () => {
  it('places every step once, rows without overlaps, edges from parent bottom to child top', () => {
    const layout = layoutDag(exampleDag('regression'));
    expect(layout.nodes.map(n => n.name).sort()).toEqual(
      exampleDag('regression')
        .map(s => s.name)
        .sort()
    );
    expect(layout.edges).toHaveLength(9); // show: "(7 steps, 9 dependencies)"
    for (const layer of new Set(layout.nodes.map(n => n.layer))) {
      const row = layout.nodes.filter(n => n.layer === layer).sort((a, b) => a.x - b.x);
      for (let i = 1; i < row.length; i++) {
        expect(row[i].x).toBeGreaterThanOrEqual(row[i - 1].x + row[i - 1].width);
      }
    }
    for (const node of layout.nodes) {
      expect(node.x).toBeGreaterThanOrEqual(0);
      expect(node.x + node.width).toBeLessThanOrEqual(layout.width);
      expect(node.y + node.height).toBeLessThanOrEqual(layout.height);
    }
    const edge = layout.edges.find(e => e.from === 'load_data' && e.to === 'split')!;
    const loadData = layout.nodes.find(n => n.name === 'load_data')!;
    expect(
      edge.path.startsWith(`M${loadData.x + loadData.width / 2},${loadData.y + loadData.height}`)
    ).toBe(true);
  });

  it('keeps children under their parents (fewer crossings)', () => {
    const layout = layoutDag([
      { name: 'root', upstream: [] },
      { name: 'left', upstream: ['root'] },
      { name: 'right', upstream: ['root'] },
      { name: 'after_right', upstream: ['right'] },
      { name: 'after_left', upstream: ['left'] }
    ]);
    const x = (name: string) => layout.nodes.find(n => n.name === name)!.x;
    expect(x('after_left')).toBeLessThan(x('after_right'));
  });

  it('is deterministic and sized from the names', () => {
    const input = exampleDag('classification');
    expect(layoutDag(input)).toEqual(layoutDag(input));
    const layout = layoutDag([{ name: 'a_rather_long_step_name', upstream: [] }]);
    expect(layout.nodes[0].width).toBeGreaterThan(DEFAULT_DAG_OPTIONS.minBoxWidth);
    expect(layout.height).toBe(DEFAULT_DAG_OPTIONS.boxHeight + 2 * DEFAULT_DAG_OPTIONS.margin);
  });

  it('has no size without steps', () => {
    expect(layoutDag([])).toEqual({
      width: 0,
      height: 0,
      nodes: [],
      edges: []
    });
  });
});

/** a -> b, c -> d plus a -> d (a long edge past the middle row). */
const DIAMOND: IDagInput[] = [
  { name: 'a', upstream: [] },
  { name: 'b', upstream: ['a'], variables: { a: ['x'] } },
  { name: 'c', upstream: ['a'], variables: { a: ['x'] } },
  { name: 'd', upstream: ['b', 'c', 'a'], variables: { b: ['yb'], c: ['yc'], a: ['x'] } }
];

/** A root feeding eight branches of two steps that all end in one sink, with skip edges. */
function wideDag(): IDagInput[] {
  const steps: IDagInput[] = [{ name: 'root', upstream: [] }];
  const branches = Array.from({ length: 8 }, (_, i) => i);
  for (const i of branches) {
    steps.push({ name: `prep_${i}`, upstream: ['root'], variables: { root: ['data'] } });
    steps.push({
      name: `fit_${i}`,
      upstream: ['prep_' + i],
      variables: { ['prep_' + i]: [`X_${i}`] }
    });
  }
  steps.push({
    name: 'sink',
    upstream: ['root', ...branches.map(i => `fit_${i}`), 'prep_3'],
    variables: { root: ['data'], prep_3: ['X_3'] }
  });
  return steps;
}

/** The points of an SVG path of M, C and L commands (curves sampled). */
function pathPoints(path: string): IPoint[] {
  const points: IPoint[] = [];
  const commands = path.match(/[MCL][^MCL]*/g)!;
  for (const command of commands) {
    const numbers = command.slice(1).trim().split(/[ ,]+/).map(Number);
    const pairs: IPoint[] = [];
    for (let i = 0; i < numbers.length; i += 2) {
      pairs.push({ x: numbers[i], y: numbers[i + 1] });
    }
    if (command[0] === 'C') {
      const p0 = points[points.length - 1];
      const [p1, p2, p3] = pairs;
      for (let k = 1; k <= 40; k++) {
        const t = k / 40;
        const s = 1 - t;
        const mix = (a: number, b: number, c: number, d: number) =>
          s * s * s * a + 3 * s * s * t * b + 3 * s * t * t * c + t * t * t * d;
        points.push({ x: mix(p0.x, p1.x, p2.x, p3.x), y: mix(p0.y, p1.y, p2.y, p3.y) });
      }
    } else {
      points.push(...pairs);
    }
  }
  return points;
}

/** Whether segment a-b passes through the inside of `box` (Liang-Barsky clipping). */
function crossesBox(a: IPoint, b: IPoint, box: IBox): boolean {
  const eps = 0.5;
  const [x0, x1, y0, y1] = [
    box.x + eps,
    box.x + box.width - eps,
    box.y + eps,
    box.y + box.height - eps
  ];
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  let t0 = 0;
  let t1 = 1;
  const checks: [number, number][] = [
    [-dx, a.x - x0],
    [dx, x1 - a.x],
    [-dy, a.y - y0],
    [dy, y1 - a.y]
  ];
  for (const [p, q] of checks) {
    if (p === 0) {
      if (q < 0) {
        return false;
      }
    } else {
      const t = q / p;
      if (p < 0) {
        t0 = Math.max(t0, t);
      } else {
        t1 = Math.min(t1, t);
      }
    }
  }
  return t0 < t1;
}

function overlap(a: IBox, b: IBox): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Every edge that passes over a box other than its own ends, as "from->to over box". */
function edgesOverBoxes(layout: IDagLayout): string[] {
  const found: string[] = [];
  for (const edge of layout.edges) {
    for (const route of [edge.points, pathPoints(edge.path)]) {
      for (let i = 1; i < route.length; i++) {
        for (const node of layout.nodes) {
          if (
            node.name !== edge.from &&
            node.name !== edge.to &&
            crossesBox(route[i - 1], route[i], node)
          ) {
            found.push(`${edge.from}->${edge.to} over ${node.name}`);
          }
        }
      }
    }
  }
  return [...new Set(found)];
}

const GRAPHS: [string, () => IDagInput[]][] = [
  ['regression', () => exampleDag('regression')],
  ['classification', () => exampleDag('classification')],
  ['diamond', () => DIAMOND],
  ['wide', wideDag]
];

describe('routing', () => {
  it('puts a dummy point in every layer a long edge crosses', () => {
    const graph = layeredGraph(normalizeDag(exampleDag('regression')));
    expect(graph.chains.get('split->evaluate_ridge')).toEqual(['split->evaluate_ridge#2']);
    expect(graph.chains.get('split->train_ridge')).toEqual([]);
    expect(graph.layers[2].map(item => item.dummy).filter(Boolean)).toHaveLength(2);
    const wide = layeredGraph(normalizeDag(wideDag()));
    expect(wide.chains.get('root->sink')).toHaveLength(2);
    expect(wide.chains.get('prep_3->sink')).toHaveLength(1);
  });

  it('orders the layers without crossings where the graph allows it', () => {
    for (const graph of [exampleDag('regression'), exampleDag('classification'), DIAMOND]) {
      const layered = layeredGraph(normalizeDag(graph));
      expect(countCrossings(layered.layers, layered.down)).toBe(0);
    }
  });

  it('reduces the crossings of a notebook order that tangles the branches', () => {
    const tangled: IDagInput[] = [
      { name: 'r', upstream: [] },
      { name: 'p', upstream: ['r'] },
      { name: 'q', upstream: ['r'] },
      { name: 'q2', upstream: ['q'] },
      { name: 'p2', upstream: ['p'] },
      { name: 'p3', upstream: ['q2'] },
      { name: 'q3', upstream: ['p2'] }
    ];
    const layered = layeredGraph(normalizeDag(tangled));
    expect(countCrossings(layered.layers, layered.down)).toBe(0);
  });

  it('finds an edge drawn straight over a box in between (the check itself)', () => {
    const box = (name: string, x: number, y: number) => ({
      name,
      layer: 0,
      x,
      y,
      width: 40,
      height: 20
    });
    const layout: IDagLayout = {
      width: 100,
      height: 100,
      nodes: [box('top', 0, 0), box('middle', 0, 40), box('bottom', 0, 80)],
      edges: [
        {
          from: 'top',
          to: 'bottom',
          points: [
            { x: 20, y: 20 },
            { x: 20, y: 80 }
          ],
          path: 'M20,20 L20,80',
          label: '',
          labelBox: null
        }
      ]
    };
    expect(edgesOverBoxes(layout)).toEqual(['top->bottom over middle']);
  });

  it.each(GRAPHS)('routes no edge over a box other than its ends (%s)', (_, graph) => {
    const layout = layoutDag(graph());
    expect(edgesOverBoxes(layout)).toEqual([]);
  });

  it('sends the edges from split to evaluate_* past the train_* boxes', () => {
    const layout = layoutDag(exampleDag('regression'));
    const edge = layout.edges.find(e => e.from === 'split' && e.to === 'evaluate_ridge')!;
    const train = layout.nodes.find(n => n.name === 'train_ridge')!;
    const through = edge.points.filter(p => p.y >= train.y && p.y <= train.y + train.height);
    expect(through).toHaveLength(2);
    for (const p of through) {
      expect(p.x < train.x || p.x > train.x + train.width).toBe(true);
    }
  });

  it.each(GRAPHS)('starts and ends every edge on its boxes (%s)', (_, graph) => {
    const layout = layoutDag(graph());
    const box = (name: string) => layout.nodes.find(n => n.name === name)!;
    for (const edge of layout.edges) {
      const [first, last] = [edge.points[0], edge.points[edge.points.length - 1]];
      const from = box(edge.from);
      const to = box(edge.to);
      expect(first.y).toBeCloseTo(from.y + from.height);
      expect(first.x).toBeGreaterThan(from.x);
      expect(first.x).toBeLessThan(from.x + from.width);
      expect(last.y).toBeCloseTo(to.y);
      expect(last.x).toBeGreaterThan(to.x);
      expect(last.x).toBeLessThan(to.x + to.width);
    }
  });

  it.each(GRAPHS)('keeps boxes of a row apart and inside the picture (%s)', (_, graph) => {
    const layout = layoutDag(graph());
    for (const a of layout.nodes) {
      expect(a.x).toBeGreaterThanOrEqual(0);
      expect(a.x + a.width).toBeLessThanOrEqual(layout.width + 0.1);
      for (const b of layout.nodes) {
        if (a !== b) {
          expect(overlap(a, b)).toBe(false);
        }
      }
    }
  });
});

describe('edge labels', () => {
  it('names the variables flowing along each edge', () => {
    const layout = layoutDag(exampleDag('regression'));
    const label = (from: string, to: string) =>
      layout.edges.find(e => e.from === from && e.to === to)!.label;
    expect(label('split', 'evaluate_ridge')).toBe('X_test, y_test');
    expect(label('train_ridge', 'evaluate_ridge')).toBe('ridge');
    expect(label('load_data', 'split')).toBe('df');
  });

  it('has no label box for an edge without variables', () => {
    const layout = layoutDag([
      { name: 'a', upstream: [] },
      { name: 'b', upstream: ['a'] }
    ]);
    expect(layout.edges[0]).toMatchObject({ label: '', labelBox: null });
  });

  it.each(GRAPHS)('places labels off the boxes and inside the picture (%s)', (_, graph) => {
    const layout = layoutDag(graph());
    const boxes = layout.edges.map(e => e.labelBox).filter((b): b is IBox => b !== null);
    expect(boxes.length).toBeGreaterThan(0);
    for (const labelBox of boxes) {
      expect(layout.nodes.filter(n => overlap(n, labelBox)).map(n => n.name)).toEqual([]);
      expect(labelBox.x).toBeGreaterThanOrEqual(0);
      expect(labelBox.x + labelBox.width).toBeLessThanOrEqual(layout.width + 0.1);
    }
  });

  it.each(GRAPHS.slice(0, 3))('keeps labels apart from each other (%s)', (_, graph) => {
    const boxes = layoutDag(graph())
      .edges.map(e => e.labelBox)
      .filter((b): b is IBox => b !== null);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        expect(overlap(boxes[i], boxes[j])).toBe(false);
      }
    }
  });
});
