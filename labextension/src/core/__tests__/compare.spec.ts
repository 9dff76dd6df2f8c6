/**
 * The comparison logic: two runs' parameters and metric deltas (better or worse by the
 * metric's direction), a run against the champion and challenger, a run's parameters
 * against the defaults, the form texts of a re-run, and the run selection.
 */
import {
  compareMetrics,
  compareParams,
  compareWithAliases,
  formatDelta,
  formatMetric,
  metricDirection,
  modelLabel,
  recordedParams,
  rerunTexts,
  runSeconds,
  toggleSelection
} from '../compare';
import { IModelsJSON, IModelVersionJSON } from '../types';

const PIPELINE = {
  params: { test_size: 0.25, n_estimators: 100, max_depth: 5, threshold: 0.5, tags: ['a'] },
  param_types: { test_size: 'float', n_estimators: 'int', max_depth: 'int', threshold: 'float' }
};

function version(number: string, aliases: string[], metrics: Record<string, number>) {
  const v: IModelVersionJSON = {
    version: number,
    aliases,
    created_ms: 0,
    run_id: null,
    pipeline_run_id: null,
    metrics,
    params: {},
    gate: null,
    gate_reasons: null,
    gates: {}
  };
  return v;
}

describe('metric direction', () => {
  it('is lower for losses and errors, else higher', () => {
    expect(metricDirection('log_loss')).toBe('lower');
    expect(metricDirection('forest_metrics.rmse')).toBe('lower');
    expect(metricDirection('mae')).toBe('lower');
    expect(metricDirection('mean_squared_error')).toBe('lower');
    expect(metricDirection('accuracy')).toBe('higher');
    expect(metricDirection('ridge_metrics.r2')).toBe('higher');
  });
});

describe('two runs', () => {
  it('lists every parameter, marking those that differ', () => {
    const diffs = compareParams(
      { n_estimators: '100', max_depth: '5', old: 'x' },
      { n_estimators: '300', max_depth: '5', new: 'y' }
    );
    expect(diffs).toEqual([
      { name: 'max_depth', a: '5', b: '5', differs: false },
      { name: 'n_estimators', a: '100', b: '300', differs: true },
      { name: 'new', a: null, b: 'y', differs: true },
      { name: 'old', a: 'x', b: null, differs: true }
    ]);
  });

  it('gives each metric b − a and whether b is better by its direction', () => {
    const deltas = compareMetrics(
      { accuracy: 0.9, log_loss: 0.3, f1: 0.8, only_a: 1 },
      { accuracy: 0.95, log_loss: 0.4, f1: 0.8 }
    );
    const byName = Object.fromEntries(deltas.map(d => [d.name, d]));
    expect(byName.accuracy.verdict).toBe('better');
    expect(byName.accuracy.delta).toBeCloseTo(0.05, 10);
    expect(byName.log_loss.verdict).toBe('worse');
    expect(byName.log_loss.direction).toBe('lower');
    expect(byName.f1.verdict).toBe('same');
    expect(byName.only_a).toMatchObject({ a: 1, b: null, delta: null, verdict: null });
  });
});

describe('a run against the champion and challenger', () => {
  const models: IModelsJSON[] = [
    {
      name: 'classification',
      aliases: { champion: '1', challenger: '2' },
      versions: [
        version('2', ['challenger'], { accuracy: 0.93, rmse: 2 }),
        version('1', ['champion'], { accuracy: 0.9 })
      ]
    }
  ];

  it('compares the metrics both have, the alias version as the base', () => {
    const found = compareWithAliases(
      { metrics: { accuracy: 0.92, rmse: 1, other: 3 }, model_version: '3' },
      models
    );
    expect(found.map(c => [c.alias, c.version])).toEqual([
      ['champion', '1'],
      ['challenger', '2']
    ]);
    expect(found[0].deltas.map(d => d.name)).toEqual(['accuracy']);
    expect(found[0].deltas[0].verdict).toBe('better');
    const challenger = Object.fromEntries(found[1].deltas.map(d => [d.name, d.verdict]));
    expect(challenger).toEqual({ accuracy: 'worse', rmse: 'better' });
  });

  it('compares once with a version holding both aliases', () => {
    const both: IModelsJSON[] = [
      {
        name: 'classification',
        aliases: { champion: '2', challenger: '2' },
        versions: [version('2', ['challenger', 'champion'], { accuracy: 0.93 })]
      }
    ];
    const found = compareWithAliases({ metrics: { accuracy: 0.9 }, model_version: null }, both);
    expect(found.map(c => [c.aliases, c.version])).toEqual([[['champion', 'challenger'], '2']]);
  });

  it('skips the version the run registered itself, and aliases nobody holds', () => {
    const found = compareWithAliases({ metrics: { accuracy: 0.93 }, model_version: '2' }, models);
    expect(found.map(c => c.alias)).toEqual(['champion']);
    expect(compareWithAliases({ metrics: { accuracy: 1 }, model_version: null }, null)).toEqual([]);
  });
});

describe('a recorded run', () => {
  it('marks the parameters that are not the default, in the pipeline order', () => {
    const params = recordedParams(
      { threshold: '0.5', n_estimators: '300', test_size: '0.25', gone: '1', max_depth: '5' },
      PIPELINE
    );
    expect(params.map(p => [p.name, p.changed])).toEqual([
      ['test_size', false],
      ['n_estimators', true],
      ['max_depth', false],
      ['threshold', false],
      ['gone', false]
    ]);
  });

  it('gives the form texts of a re-run: only values that are not the default', () => {
    expect(
      rerunTexts({ n_estimators: '300', threshold: '0.5', tags: "['a', 'b']", gone: '1' }, PIPELINE)
    ).toEqual({ n_estimators: '300', tags: "['a', 'b']" });
    expect(rerunTexts({ n_estimators: '100' }, PIPELINE)).toEqual({});
  });

  it('has a duration when it started and ended', () => {
    expect(runSeconds('2026-12-02T21:15:00Z', '2026-12-02T21:16:05.500Z')).toBe(65.5);
    expect(runSeconds('2026-12-02T21:15:00Z', null)).toBeNull();
    expect(runSeconds('not a date', '2026-12-02T21:15:00Z')).toBeNull();
  });
});

describe('texts', () => {
  it('signs deltas and rounds metrics', () => {
    expect(formatDelta(0.0123456)).toBe('+0.01235');
    expect(formatDelta(-2)).toBe('−2');
    expect(formatDelta(0)).toBe('0');
    expect(formatMetric(0.912345)).toBe('0.9123');
    expect(formatMetric(42)).toBe('42');
  });

  it('labels a model by its step', () => {
    expect(modelLabel('regression-ridge', 'train_ridge')).toBe(
      'regression-ridge · step train_ridge'
    );
    expect(modelLabel('classification', null)).toBe('classification');
  });
});

describe('selecting runs to compare', () => {
  it('keeps at most two, the newest ticks', () => {
    let selected = toggleSelection([], 'a');
    selected = toggleSelection(selected, 'b');
    expect(selected).toEqual(['a', 'b']);
    expect(toggleSelection(selected, 'c')).toEqual(['b', 'c']);
    expect(toggleSelection(selected, 'a')).toEqual(['b']);
  });
});
