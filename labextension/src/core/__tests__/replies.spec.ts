/**
 * The parsers against replies recorded from the real server extension (fixtures/*.json:
 * a jupyter server with jupyter_mlops, the classification example extracted and run).
 */
import * as fs from 'fs';
import * as path from 'path';

import {
  parseExtract,
  parseModels,
  parseRunHistory,
  parseRunList,
  parseRunSnapshot,
  parseVersion,
  ProtocolError,
  runStatus,
  stepState
} from '../replies';

function fixture(name: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf-8'));
}

describe('run snapshots', () => {
  it('reads the POST run reply: every step waiting, no MLflow run yet', () => {
    const run = parseRunSnapshot(fixture('run.started.json'));
    expect(run.id).toBe('2ed130187c0573c3');
    expect(run.path).toBe('classification.ipynb');
    expect(run.status).toBe('running');
    expect(Object.keys(run.steps)).toEqual(['load_data', 'features', 'split', 'train', 'evaluate']);
    expect(Object.values(run.steps).every(s => s.state === 'waiting')).toBe(true);
    expect(run.run_id).toBeNull();
  });

  it('reads per-step progress while running, and the MLflow recording phase', () => {
    const running = parseRunSnapshot(fixture('run.running.json'));
    expect(running.steps.load_data.state).toBe('ran');
    expect(running.steps.split.state).toBe('running');
    expect(running.steps.split.seconds).toBeGreaterThan(0);
    expect(running.recording).toBe(false);
    expect(parseRunSnapshot(fixture('run.recording.json')).recording).toBe(true);
  });

  it('reads the summary of a finished run', () => {
    const done = parseRunSnapshot(fixture('run.succeeded.json'));
    expect(done.status).toBe('succeeded');
    expect(done.run_id).toBe('0d9da82b46394506903cb784b9fb18e7');
    expect(done.model_version).toBe('1');
    expect(Object.keys(done.metrics).sort()).toEqual(['accuracy', 'f1', 'roc_auc']);
    expect(done.gate).toBeNull();
    expect(done.log[0]).toBe('[load_data] running');
    expect(done.elapsed).toBeCloseTo(75.925);
  });

  it('reads a gate decision and a failure', () => {
    const run = parseRunSnapshot({
      id: 'x',
      status: 'failed',
      steps: [{ name: 'a', state: 'failed', seconds: 1 }],
      summary: {
        gates: { outcome: 'rejected', reasons: ['f1 0.5 < 0.9'] },
        error: 'gate'
      },
      error: null
    });
    expect(run.gate).toEqual({
      outcome: 'rejected',
      reasons: ['f1 0.5 < 0.9']
    });
    expect(run.error).toBe('gate');
  });

  it('normalizes states it does not know', () => {
    expect(runStatus('cancelling')).toBe('running');
    expect(runStatus('cancelled')).toBe('cancelled');
    expect(runStatus(undefined)).toBe('running');
    expect(stepState('done')).toBe('ran');
    expect(stepState('not_run')).toBe('not_run');
    expect(stepState('exploded')).toBe('waiting');
  });

  it('accepts steps as an object and the log as text', () => {
    const run = parseRunSnapshot({
      id: 'x',
      steps: { a: { status: 'cached', seconds: 0 } },
      log: 'one\ntwo'
    });
    expect(run.steps.a.state).toBe('cached');
    expect(run.log).toEqual(['one', 'two']);
  });

  it('refuses a run without an id', () => {
    expect(() => parseRunSnapshot({ status: 'running' })).toThrow(ProtocolError);
    expect(() => parseRunSnapshot('nope')).toThrow('the run is not an object');
    expect(() => parseRunList({})).toThrow('the run list has no runs');
  });

  it('reads the list of runs the server remembers', () => {
    const runs = parseRunList({
      runs: [fixture('run.running.json'), fixture('run.succeeded.json')]
    });
    expect(runs.map(r => r.status)).toEqual(['running', 'succeeded']);
  });
});

describe('records', () => {
  it('reads the run history from MLflow', () => {
    const history = parseRunHistory(fixture('runs.reply.json'));
    expect(history.experiment_id).toBe('1');
    expect(history.runs).toHaveLength(1);
    expect(history.runs[0]).toMatchObject({
      id: '0d9da82b46394506903cb784b9fb18e7',
      status: 'FINISHED',
      mlops_status: 'succeeded',
      model_version: '1'
    });
    expect(history.runs[0].params.n_estimators).toBe('20');
    expect(history.runs[0].metrics.accuracy).toBeGreaterThan(0.9);
  });

  it('reads model versions with aliases, metrics and gates', () => {
    const models = parseModels(fixture('models.reply.json'));
    expect(models.name).toBe('classification');
    expect(models.aliases).toEqual({ challenger: '1' });
    expect(models.versions[0]).toMatchObject({
      version: '1',
      aliases: ['challenger'],
      pipeline_run_id: '0d9da82b46394506903cb784b9fb18e7',
      params: { max_depth: '5', n_estimators: '20', test_size: '0.25', threshold: '0.5' },
      gate: null,
      gates: {}
    });
    expect(parseModels({ name: 'none', aliases: {}, versions: [] }).versions).toEqual([]);
    expect(
      parseModels({ name: 'p', aliases: {}, versions: [], models: ['p-a', 'p-b'] }).models
    ).toEqual(['p-a', 'p-b']);
    expect(() => parseModels({ name: 'x' })).toThrow('the model list has no versions');
  });

  it('reads the extraction result', () => {
    const extract = parseExtract(fixture('extract.reply.json'));
    expect(extract.folder).toBe('pipelines/classification');
    expect(extract.steps).toHaveLength(5);
    expect(extract.changed).toContain('pipelines/classification/pipeline.yaml');
    expect(() => parseExtract({})).toThrow('the extraction names no folder');
  });

  it('reads the version', () => {
    expect(parseVersion({ version: '0.1.0' })).toBe('0.1.0');
    expect(() => parseVersion({})).toThrow('no version');
  });
});
