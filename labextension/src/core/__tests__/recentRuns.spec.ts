/**
 * Recent runs: live records (every run, wherever started: a cancelled one, one whose steps
 * were all cached) merged with the runs only MLflow still holds, newest first.
 */
import { paramTexts, recentRuns } from '../recentRuns';
import { parseRunHistory } from '../replies';
import { ILiveRunJSON, IRunHistory } from '../types';

const PIPELINE = {
  params: { n_estimators: 100, threshold: 0.5, scale: 1.0, name: 'x', flags: [1] },
  param_types: { scale: 'float' }
};

function live(id: string, patch: Partial<ILiveRunJSON>): ILiveRunJSON {
  return {
    id,
    path: 'nb.ipynb',
    pipeline: 'p',
    status: 'succeeded',
    elapsed: 1,
    steps: {},
    log: [],
    recording: false,
    run_id: null,
    model_version: null,
    metrics: {},
    gate: null,
    error: null,
    params: null,
    source: 'cli',
    started: null,
    ended: null,
    failed_step: null,
    traceback: null,
    ...patch
  };
}

const HISTORY: IRunHistory = parseRunHistory({
  pipeline: 'p',
  experiment_id: '1',
  runs: [
    {
      id: 'mlflow-b',
      start: '2026-12-02T21:10:00Z',
      end: '2026-12-02T21:10:30Z',
      status: 'FINISHED',
      mlops_status: 'succeeded',
      model_version: '2',
      gate: 'validated',
      started_from: 'panel',
      metrics: { accuracy: 0.9 },
      params: { n_estimators: '40' }
    },
    {
      id: 'mlflow-a',
      start: '2026-12-02T21:00:00Z',
      end: '2026-12-02T21:00:30Z',
      status: 'FINISHED',
      mlops_status: 'succeeded',
      model_version: '1',
      metrics: { accuracy: 0.8 },
      params: { n_estimators: '7' }
    }
  ]
});

describe('recent runs', () => {
  it('lists live records and the runs only MLflow holds, newest first', () => {
    const rows = recentRuns(
      HISTORY,
      [
        live('run-3', {
          started: '2026-12-02T21:20:00Z',
          run_id: 'mlflow-a',
          params: { n_estimators: 7 },
          source: 'panel',
          steps: { load: { state: 'cached', seconds: 0 }, train: { state: 'cached', seconds: 0 } }
        }),
        live('run-2', {
          started: '2026-12-02T21:10:00Z',
          ended: '2026-12-02T21:10:31Z',
          steps: { load: { state: 'cached', seconds: 0 }, train: { state: 'ran', seconds: 3 } },
          run_id: 'mlflow-b',
          model_version: '2',
          metrics: { accuracy: 0.9 }
        }),
        live('run-c', { started: '2026-12-02T21:15:00Z', status: 'cancelled', error: 'cancelled' })
      ],
      PIPELINE
    );
    expect(rows.map(r => [r.key, r.id, r.status])).toEqual([
      ['run-3', 'mlflow-a', 'succeeded'],
      ['run-c', 'run-c', 'cancelled'],
      ['run-2', 'mlflow-b', 'succeeded'],
      ['mlflow-a', 'mlflow-a', 'FINISHED']
    ]);
    // A run whose steps were all cached reuses an earlier MLflow run: its metrics, not
    // its registered version or gate.
    expect(rows[0]).toMatchObject({
      metrics: { accuracy: 0.8 },
      model_version: null,
      gate: null,
      params: { n_estimators: '7' },
      started_from: 'panel',
      allCached: true
    });
    expect(rows[1].allCached).toBe(false); // a cancelled run
    expect(rows[2].allCached).toBe(false); // one step ran
    expect(rows[3].allCached).toBeUndefined(); // MLflow only
    expect(rows[2]).toMatchObject({ gate: 'validated', started_from: 'cli' });
    expect(rows[1].error).toBe('cancelled');
    expect(rows[0].seconds).toBe(1); // the live record's elapsed time
    expect(rows[3].seconds).toBeUndefined(); // from start and end
  });

  it('writes live values as MLflow records them, typed as the pipeline', () => {
    expect(
      paramTexts({ n_estimators: 7, scale: 2, name: 'y', flags: [1, 2], extra: true }, PIPELINE)
    ).toEqual({ n_estimators: '7', scale: '2.0', name: 'y', flags: '[1,2]', extra: 'True' });
  });

  it('is empty without runs', () => {
    expect(recentRuns(null, [], null)).toEqual([]);
  });
});
