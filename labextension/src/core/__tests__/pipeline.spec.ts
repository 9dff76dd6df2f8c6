import * as fs from 'fs';
import * as path from 'path';

import {
  brokenSteps,
  dagInput,
  errorsByCell,
  headingAbove,
  isErrorReply,
  parsePipelineReply,
  rowsWithErrors,
  stepRows,
  stepsInSources,
  unattachedErrors
} from '../pipeline';
import { ProtocolError } from '../replies';
import { IPipelineJSON } from '../types';

/** Real `jupyter mlops show --json` output of the example notebooks. */
function fixture(name: string): unknown {
  const file = path.join(__dirname, 'fixtures', `${name}.show.json`);
  return JSON.parse(fs.readFileSync(file, 'utf-8'));
}

describe('parsing the pipeline reply', () => {
  it('accepts the show --json contract of both example notebooks', () => {
    const reply = parsePipelineReply(fixture('classification')) as IPipelineJSON;
    expect(isErrorReply(reply)).toBe(false);
    expect(reply.name).toBe('classification');
    expect(reply.steps.map(s => s.name)).toEqual([
      'load_data',
      'features',
      'split',
      'train',
      'evaluate'
    ]);
    expect(Object.keys(reply.params)).toEqual([
      'test_size',
      'n_estimators',
      'max_depth',
      'threshold'
    ]);
    const regression = parsePipelineReply(fixture('regression')) as IPipelineJSON;
    expect(regression.steps).toHaveLength(7);
  });

  it('accepts an error reply and keeps cell, step and name', () => {
    const reply = parsePipelineReply({
      errors: [
        {
          cell: 4,
          step: 'a',
          name: 'base',
          message: "reads 'base', which nothing defines"
        },
        { cell: null, step: null, message: 'no parameters cell' }
      ]
    });
    expect(isErrorReply(reply)).toBe(true);
    expect(reply).toEqual({
      errors: [
        {
          cell: 4,
          step: 'a',
          name: 'base',
          message: "reads 'base', which nothing defines"
        },
        { cell: null, step: null, name: null, message: 'no parameters cell' }
      ]
    });
  });

  it('refuses replies of another shape with a ProtocolError', () => {
    expect(() => parsePipelineReply(null)).toThrow(ProtocolError);
    expect(() => parsePipelineReply({ name: 'x', steps: [] })).toThrow(
      'expected {name, params, steps} or {errors}'
    );
    expect(() =>
      parsePipelineReply({
        name: 'x',
        params: {},
        steps: [{ name: 'a', cell: '1' }]
      })
    ).toThrow('steps[0] is not {name, cell, inputs, outputs, params}');
    expect(() => parsePipelineReply({ errors: [{ cell: 1 }] })).toThrow('errors[0] has no message');
  });
});

describe('step rows', () => {
  it('lists inputs with their producers, sorted by variable', () => {
    const rows = stepRows(parsePipelineReply(fixture('classification')) as IPipelineJSON);
    const evaluate = rows.find(r => r.name === 'evaluate')!;
    expect(evaluate.cell).toBe(18);
    expect(evaluate.inputs).toEqual([
      { variable: 'X_test', producer: 'split' },
      { variable: 'model', producer: 'train' },
      { variable: 'y_test', producer: 'split' }
    ]);
    expect(evaluate.outputs).toEqual(['metrics']);
    expect(evaluate.params).toEqual(['threshold']);
    expect(evaluate.errors).toEqual([]);
  });

  it('gives the DAG one upstream entry per input', () => {
    const rows = stepRows(parsePipelineReply(fixture('regression')) as IPipelineJSON);
    const dag = dagInput(rows);
    expect(dag.find(d => d.name === 'compare')!.upstream.sort()).toEqual([
      'evaluate_forest',
      'evaluate_ridge'
    ]);
    expect(dag[0]).toEqual({ name: 'load_data', upstream: [], variables: {} });
  });

  it('gives each DAG edge the variables it carries', () => {
    const rows = stepRows(parsePipelineReply(fixture('regression')) as IPipelineJSON);
    const evaluate = dagInput(rows).find(d => d.name === 'evaluate_ridge')!;
    expect(evaluate.variables).toEqual({ split: ['X_test', 'y_test'], train_ridge: ['ridge'] });
  });
});

describe('extraction errors', () => {
  const sources = [
    '%load_ext jupyter_mlops',
    'import os',
    '%%mlstep a\nx = base',
    '%%mlstep b\ny = x'
  ];
  const errors = [
    { cell: 3, step: 'a', message: "reads 'base'" },
    { cell: 4, step: null, message: 'something on cell 4' },
    { cell: 2, step: null, message: 'bad setup cell' },
    { cell: null, step: null, message: 'global problem' }
  ];

  it('reads the steps of the live notebook', () => {
    expect(stepsInSources(sources)).toEqual([
      { name: 'a', cell: 3 },
      { name: 'b', cell: 4 }
    ]);
  });

  it('attaches errors to steps by name or by cell', () => {
    const rows = rowsWithErrors(sources, errors);
    expect(rows.map(r => [r.name, r.errors])).toEqual([
      ['a', ["reads 'base'"]],
      ['b', ['something on cell 4']]
    ]);
    expect(unattachedErrors(rows, errors).map(e => e.message)).toEqual([
      'bad setup cell',
      'global problem'
    ]);
  });

  it('keeps the inputs and outputs of the last good scan on the rows', () => {
    const lastGood: IPipelineJSON = {
      name: 'p',
      params: {},
      steps: [
        { name: 'a', cell: 3, inputs: {}, outputs: ['x'], params: [] },
        { name: 'b', cell: 4, inputs: { x: 'a' }, outputs: ['y'], params: ['k'] }
      ]
    };
    const rows = rowsWithErrors(sources, errors, lastGood);
    expect(rows[1]).toMatchObject({
      name: 'b',
      inputs: [{ variable: 'x', producer: 'a' }],
      outputs: ['y'],
      params: ['k'],
      errors: ['something on cell 4']
    });
    expect(brokenSteps(rows)).toEqual(new Set(['a', 'b']));
    expect(rowsWithErrors(['%%mlstep new\nz = 1'], [], lastGood)[0].inputs).toEqual([]);
  });

  it('groups messages per cell for the notebook', () => {
    const byCell = errorsByCell([...errors, { cell: 3, step: 'a', message: 'second' }]);
    expect(byCell.get(3)).toEqual(["reads 'base'", 'second']);
    expect(byCell.get(2)).toEqual(['bad setup cell']);
    expect(byCell.has(1)).toBe(false);
  });
});

describe('heading above a cell', () => {
  const cells = [
    { type: 'markdown', source: '# Title' },
    { type: 'code', source: 'import x' },
    { type: 'markdown', source: 'Some text\n\n## Load the data\nmore text' },
    { type: 'code', source: 'df = 1' },
    { type: 'code', source: 'df2 = 2' },
    { type: 'markdown', source: '### Train ###' },
    { type: 'raw', source: 'raw' },
    { type: 'code', source: 'm = 3' }
  ];

  it('finds the nearest heading in the markdown right above', () => {
    expect(headingAbove(cells, 3)).toBe('Load the data');
    expect(headingAbove(cells, 7)).toBe('Train');
    expect(headingAbove(cells, 1)).toBe('Title');
  });

  it('stops at a code cell', () => {
    expect(headingAbove(cells, 4)).toBeNull();
    expect(headingAbove(cells, 0)).toBeNull();
  });
});
