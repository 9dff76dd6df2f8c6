/**
 * Recent runs, the comparison and the Models section as rendered markup (react-dom/server,
 * no DOM): states and differences are words, not colour alone.
 */

import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

import { IRecentRun } from '../../core/recentRuns';
import { IModelsJSON } from '../../core/types';
import { CompareView } from '../compareView';
import { ModelsView } from '../modelsView';
import { RunsView } from '../runsView';

const PIPELINE = { name: 'p', params: { n_estimators: 100, max_depth: 5 }, steps: [] };

function run(key: string, patch: Partial<IRecentRun>): IRecentRun {
  return {
    key,
    id: key,
    name: null,
    start: '2026-12-02T21:00:00Z',
    end: '2026-12-02T21:00:30Z',
    status: 'FINISHED',
    mlops_status: 'succeeded',
    model_version: null,
    gate: null,
    metrics: { accuracy: 0.9, log_loss: 0.3 },
    params: { n_estimators: '100', max_depth: '5' },
    started_from: 'cli',
    error: null,
    ...patch
  };
}

const MODELS: IModelsJSON[] = [
  {
    name: 'p',
    step: 'train',
    aliases: { champion: '1' },
    versions: [
      {
        version: '1',
        aliases: ['champion'],
        created_ms: 0,
        run_id: null,
        pipeline_run_id: null,
        metrics: { accuracy: 0.95 },
        params: { n_estimators: '300', max_depth: '5' },
        gate: 'validated',
        gate_reasons: null,
        gates: {}
      }
    ]
  }
];

describe('recent runs', () => {
  it('shows parameters (changed marked), source, duration, a failure reason, deltas', () => {
    const html = renderToStaticMarkup(
      <RunsView
        runs={[
          run('b', { params: { n_estimators: '300', max_depth: '5' }, model_version: '2' }),
          run('a', { mlops_status: 'failed', error: 'ZeroDivisionError: division by zero' })
        ]}
        pipeline={PIPELINE}
        models={MODELS}
        canRerun={true}
        runLink={id => id}
        onRerun={() => undefined}
      />
    );
    expect(html).toContain('Recent runs (2)');
    expect(html).toMatch(/data-param="n_estimators" data-changed="true">n_estimators=<strong>300/);
    expect(html).toContain('(changed)');
    expect(html).toContain('from CLI');
    expect(html).toContain('30.0 s');
    expect(html).toContain('registered v2');
    expect(html).toContain('failed: ZeroDivisionError: division by zero');
    expect(html).toContain('vs champion v1:');
    expect(html).toContain('▼ worse');
    expect(html).toContain('Re-run with these parameters');
    expect(html).toContain('aria-label="Compare run a"');
    expect(html).not.toContain('every step cached');
  });

  it('says when every step came from the cache (the results of an earlier run)', () => {
    const html = renderToStaticMarkup(
      <RunsView
        runs={[run('mlflow-run-id-a', { allCached: true })]}
        pipeline={PIPELINE}
        models={MODELS}
        canRerun={true}
        runLink={id => id}
        onRerun={() => undefined}
      />
    );
    expect(html).toContain(
      'every step cached: the results of run mlflow-run-i, nothing new recorded'
    );
  });
});

describe('the comparison', () => {
  it('marks differing parameters and says better or worse', () => {
    const html = renderToStaticMarkup(
      <CompareView
        runs={[
          run('a', {}),
          run('b', {
            params: { n_estimators: '300', max_depth: '5' },
            metrics: { accuracy: 0.95, log_loss: 0.4 }
          })
        ]}
        onClose={() => undefined}
      />
    );
    expect(html).toContain('1 parameter differs');
    expect(html).toMatch(/data-param="n_estimators" data-differs="true"[^>]*>.*≠ differs/);
    expect(html).toMatch(/data-param="max_depth" data-differs="false"/);
    expect(html).toMatch(/data-metric="accuracy" data-verdict="better".*▲ better/);
    expect(html).toMatch(/data-metric="log_loss" data-verdict="worse".*▼ worse/);
  });
});

describe('models', () => {
  it('labels each version by model and step; no Promote on the champion', () => {
    const html = renderToStaticMarkup(
      <ModelsView
        models={MODELS}
        pipeline={PIPELINE}
        message={null}
        runLink={id => id}
        onReload={() => undefined}
        onPromote={async () => new Error('unused') as never}
      />
    );
    expect(html).toContain('Models: p · step train');
    expect(html).toContain('data-testid="mlops-model-label">p · step train');
    expect(html).not.toContain('mlops-model-promote');
    // The parameters of the run that trained it, a changed one marked in words.
    expect(html).toContain('n_estimators=<strong>300</strong>');
    expect(html).toMatch(/data-param="n_estimators" data-changed="true">.*\(changed\)/);
    expect(html).toContain('data-param="max_depth" data-changed="false"');
  });
});
