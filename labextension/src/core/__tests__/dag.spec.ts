import * as fs from 'fs';
import * as path from 'path';

import { dagLayers, DEFAULT_DAG_OPTIONS, IDagInput, layoutDag, normalizeDag } from '../dag';
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
