/**
 * The panel model against a scripted server (the real REST client is exercised by the
 * browser tests): server states, debounced scans of the live notebook, errors on steps
 * and cells, parameters, extraction, and a run from start to finish.
 */
import * as fs from 'fs';
import * as path from 'path';

import { PanelModel, SCAN_DELAY_MS } from '../model';
import { IStateStore, ParamStore } from '../paramForm';
import { INotebookHandle } from '../state';
import { brokenSteps, dagInput, parsePipelineReply } from '../pipeline';
import { parseExtract, parseRunSnapshot } from '../replies';
import { MAX_POLL_FAILURES } from '../runTracker';
import {
  ApiError,
  IExtractReply,
  IMlopsApi,
  IModelsJSON,
  IRunHistory,
  IRunRequest,
  IRunStatusJSON,
  PipelineReply
} from '../types';
import { FRONTEND_VERSION } from '../version';

function fixture(name: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf-8'));
}

const CLASSIFICATION = parsePipelineReply(fixture('classification.show.json'));
const POLL_MS = 1000;

class FakeApi implements IMlopsApi {
  calls: string[] = [];
  serverVersion: string | ApiError = FRONTEND_VERSION;
  pipelineReply: (content: unknown) => Promise<PipelineReply> = async () => CLASSIFICATION;
  statuses: (IRunStatusJSON | ApiError)[] = [];
  started: IRunStatusJSON | ApiError = parseRunSnapshot(fixture('run.started.json'));
  remembered: IRunStatusJSON[] = [];
  requests: IRunRequest[] = [];
  /** The registered models the server lists with its reply (none: an older server). */
  pipelineModels: string[] | undefined = undefined;

  async version(): Promise<string> {
    this.calls.push('version');
    if (this.serverVersion instanceof ApiError) {
      throw this.serverVersion;
    }
    return this.serverVersion;
  }
  async pipeline(path: string, content: unknown): Promise<PipelineReply> {
    this.calls.push(`pipeline ${path}`);
    return this.pipelineReply(content);
  }
  async extract(path: string): Promise<IExtractReply> {
    this.calls.push(`extract ${path}`);
    return parseExtract(fixture('extract.reply.json'));
  }
  async startRun(request: IRunRequest): Promise<IRunStatusJSON> {
    this.calls.push('run');
    this.requests.push(request);
    if (this.started instanceof ApiError) {
      throw this.started;
    }
    return this.started;
  }
  async runStatus(id: string): Promise<IRunStatusJSON> {
    this.calls.push(`status ${id}`);
    const next = this.statuses.length > 1 ? this.statuses.shift()! : this.statuses[0];
    if (next instanceof ApiError) {
      throw next;
    }
    return next;
  }
  async cancelRun(id: string): Promise<IRunStatusJSON> {
    this.calls.push(`cancel ${id}`);
    return {
      ...parseRunSnapshot(fixture('run.running.json')),
      status: 'running'
    };
  }
  async activeRuns(): Promise<IRunStatusJSON[]> {
    this.calls.push('runs');
    return this.remembered;
  }
  async history(path: string): Promise<IRunHistory> {
    this.calls.push(`history ${path}`);
    return { pipeline: 'classification', experiment_id: '1', runs: [] };
  }
  async models(name: string): Promise<IModelsJSON> {
    this.calls.push(`models ${name}`);
    return { name, aliases: {}, versions: [], models: this.pipelineModels };
  }
}

class FakeNotebook implements INotebookHandle {
  dirty = false;
  saves = 0;
  constructor(
    readonly path: string,
    public sources: { type: string; source: string }[] = [
      { type: 'code', source: '%%mlstep a\nx = 1' }
    ]
  ) {}
  content(): unknown {
    return {
      cells: this.sources.map(c => ({ cell_type: c.type, source: c.source }))
    };
  }
  cells() {
    return this.sources;
  }
  async save(): Promise<void> {
    this.saves++;
    this.dirty = false;
  }
}

class MemoryStateDB implements IStateStore {
  private readonly values = new Map<string, string>();
  async fetch(id: string): Promise<unknown> {
    const value = this.values.get(id);
    return value === undefined ? undefined : JSON.parse(value);
  }
  async save(id: string, value: Record<string, string>): Promise<void> {
    this.values.set(id, JSON.stringify(value));
  }
  async remove(id: string): Promise<void> {
    this.values.delete(id);
  }
}

async function ready(api: FakeApi, notebook: FakeNotebook | null = null): Promise<PanelModel> {
  const model = new PanelModel(api, POLL_MS);
  await model.checkServer();
  await model.setNotebook(notebook);
  return model;
}

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

describe('server extension state', () => {
  it('is ok when the versions match', async () => {
    const model = await ready(new FakeApi());
    expect(model.state.server).toBe('ok');
    expect(model.state.notebook).toBeNull();
  });

  it('says missing on 404 and then never scans', async () => {
    const api = new FakeApi();
    api.serverVersion = new ApiError(404, '404 Not Found from version');
    const model = await ready(api, new FakeNotebook('nb.ipynb'));
    expect(model.state.server).toBe('missing');
    model.notebookChanged();
    await jest.advanceTimersByTimeAsync(SCAN_DELAY_MS * 2);
    expect(api.calls).toEqual(['version']);
  });

  it('says unreachable when the request fails, and recovers on retry', async () => {
    const api = new FakeApi();
    api.serverVersion = new ApiError(0, 'cannot reach the Jupyter server');
    const model = await ready(api, new FakeNotebook('nb.ipynb'));
    expect(model.state).toMatchObject({
      server: 'unreachable',
      serverMessage: 'cannot reach the Jupyter server'
    });
    api.serverVersion = FRONTEND_VERSION;
    await model.checkServer();
    expect(model.state.server).toBe('ok');
    expect(model.state.rows.map(r => r.name)).toEqual(CLASSIFICATION_STEPS);
  });

  it('reports a version mismatch but keeps working', async () => {
    const api = new FakeApi();
    api.serverVersion = '9.9.9';
    const model = await ready(api, new FakeNotebook('nb.ipynb'));
    expect(model.state).toMatchObject({
      server: 'mismatch',
      serverVersion: '9.9.9',
      scan: 'ok'
    });
  });
});

const CLASSIFICATION_STEPS = ['load_data', 'features', 'split', 'train', 'evaluate'];

describe('following a notebook', () => {
  it('scans it at once and loads its records', async () => {
    const api = new FakeApi();
    const model = await ready(api, new FakeNotebook('work/nb.ipynb'));
    expect(model.state.notebook).toBe('work/nb.ipynb');
    expect(model.state.scan).toBe('ok');
    expect(model.state.rows.map(r => r.name)).toEqual(CLASSIFICATION_STEPS);
    expect(model.state.paramTexts).toEqual({});
    expect(model.paramFields.map(f => `${f.name}=${f.text}`)).toEqual([
      'test_size=0.25',
      'n_estimators=100',
      'max_depth=5',
      'threshold=0.5'
    ]);
    expect(api.calls).toEqual(
      expect.arrayContaining([
        'pipeline work/nb.ipynb',
        'runs',
        'history work/nb.ipynb',
        'models classification'
      ])
    );
  });

  it('loads the versions of every model of a pipeline with several', async () => {
    const api = new FakeApi();
    api.pipelineModels = ['classification-ridge', 'classification-forest'];
    const model = await ready(api, new FakeNotebook('work/nb.ipynb'));
    await jest.advanceTimersByTimeAsync(0);
    expect(api.calls.filter(c => c.startsWith('models'))).toEqual([
      'models classification',
      'models classification-ridge',
      'models classification-forest'
    ]);
    expect(model.state.models?.map(m => m.name)).toEqual([
      'classification-ridge',
      'classification-forest'
    ]);
  });

  it('debounces edits into one scan of the live content', async () => {
    const api = new FakeApi();
    const scanned: unknown[] = [];
    api.pipelineReply = async content => {
      scanned.push(content);
      return CLASSIFICATION;
    };
    const notebook = new FakeNotebook('nb.ipynb');
    const model = await ready(api, notebook);
    expect(scanned).toHaveLength(1);
    for (let i = 0; i < 5; i++) {
      notebook.sources = [{ type: 'code', source: `%%mlstep a\nx = ${i}` }];
      model.notebookChanged();
      await jest.advanceTimersByTimeAsync(SCAN_DELAY_MS / 2);
    }
    expect(scanned).toHaveLength(1);
    expect(model.scanPending).toBe(true);
    await jest.advanceTimersByTimeAsync(SCAN_DELAY_MS);
    expect(scanned).toHaveLength(2);
    expect(scanned[1]).toEqual({
      cells: [{ cell_type: 'code', source: '%%mlstep a\nx = 4' }]
    });
  });

  it('does not rescan when the content did not change (outputs only)', async () => {
    const api = new FakeApi();
    const model = await ready(api, new FakeNotebook('nb.ipynb'));
    const scans = () => api.calls.filter(c => c.startsWith('pipeline')).length;
    model.notebookChanged();
    await jest.advanceTimersByTimeAsync(SCAN_DELAY_MS);
    expect(scans()).toBe(1);
    await model.refresh(true);
    expect(scans()).toBe(2);
  });

  it('drops the reply of an older scan', async () => {
    const api = new FakeApi();
    const replies: ((reply: PipelineReply) => void)[] = [];
    const notebook = new FakeNotebook('nb.ipynb');
    const model = await ready(api, notebook);
    api.pipelineReply = () => new Promise(resolve => replies.push(resolve));
    notebook.sources = [{ type: 'code', source: '%%mlstep old\nx = 1' }];
    const first = model.refresh();
    notebook.sources = [{ type: 'code', source: '%%mlstep new\nx = 1' }];
    const second = model.refresh();
    replies[1]({
      name: 'nb',
      params: {},
      steps: [{ name: 'new', cell: 1, inputs: {}, outputs: [], params: [] }]
    });
    await second;
    expect(model.state.rows.map(r => r.name)).toEqual(['new']);
    replies[0]({
      name: 'nb',
      params: {},
      steps: [{ name: 'old', cell: 1, inputs: {}, outputs: [], params: [] }]
    });
    await Promise.all([first, second]);
    expect(model.state.rows.map(r => r.name)).toEqual(['new']);
  });

  it('shows extraction errors on the steps, the cells and above the list', async () => {
    const api = new FakeApi();
    api.pipelineReply = async () => ({
      errors: [
        {
          cell: 3,
          step: 'a',
          message: "reads 'base', which no earlier step defines"
        },
        {
          cell: 1,
          step: null,
          message: 'the parameters cell may only assign literals'
        }
      ]
    });
    const notebook = new FakeNotebook('nb.ipynb', [
      { type: 'code', source: 'alpha = f()' },
      { type: 'markdown', source: '## A' },
      { type: 'code', source: '%%mlstep a\nx = base' }
    ]);
    const model = await ready(api, notebook);
    expect(model.state.scan).toBe('errors');
    expect(model.state.rows).toEqual([
      expect.objectContaining({
        name: 'a',
        cell: 3,
        errors: ["reads 'base', which no earlier step defines"]
      })
    ]);
    expect(model.state.otherErrors.map(e => e.cell)).toEqual([1]);
    expect([...model.cellErrors.keys()].sort()).toEqual([1, 3]);
  });

  it('keeps the last good pipeline for the DAG while extraction fails', async () => {
    const api = new FakeApi();
    const sources = CLASSIFICATION_STEPS.map(name => ({
      type: 'code',
      source: `%%mlstep ${name}\npass`
    }));
    const notebook = new FakeNotebook('nb.ipynb', sources);
    const model = await ready(api, notebook);
    expect(model.state.scan).toBe('ok');
    api.pipelineReply = async () => ({
      errors: [{ cell: 4, step: 'train', message: "reads 'X_trian', which no step defines" }]
    });
    notebook.sources = [...sources];
    await model.refresh(true);
    expect(model.state.scan).toBe('errors');
    expect(model.state.pipeline).toBe(CLASSIFICATION);
    const train = model.state.rows.find(r => r.name === 'train')!;
    expect(train.errors).toEqual(["reads 'X_trian', which no step defines"]);
    expect(train.inputs.map(i => `${i.variable}<-${i.producer}`)).toEqual([
      'X_train<-split',
      'y_train<-split'
    ]);
    const dag = dagInput(model.state.rows);
    expect(dag.find(d => d.name === 'evaluate')!.upstream.sort()).toEqual([
      'split',
      'split',
      'train'
    ]);
    expect(brokenSteps(model.state.rows)).toEqual(new Set(['train']));
  });

  it('says when the scan request fails, and that is not cached', async () => {
    const api = new FakeApi();
    api.pipelineReply = async () => {
      throw new ApiError(400, "'content' must be the notebook as a JSON object");
    };
    const model = await ready(api, new FakeNotebook('nb.ipynb'));
    expect(model.state).toMatchObject({
      scan: 'failed',
      scanMessage: "'content' must be the notebook as a JSON object"
    });
    api.pipelineReply = async () => CLASSIFICATION;
    await model.refresh();
    expect(model.state.scan).toBe('ok');
  });

  it('clears everything when no notebook is active', async () => {
    const model = await ready(new FakeApi(), new FakeNotebook('nb.ipynb'));
    await model.setNotebook(null);
    expect(model.state).toMatchObject({
      notebook: null,
      rows: [],
      pipeline: null,
      scan: 'idle'
    });
  });
});

describe('parameters', () => {
  it('keeps edited values across rescans and follows untouched defaults', async () => {
    const api = new FakeApi();
    const model = await ready(api, new FakeNotebook('nb.ipynb'));
    model.setParamText('n_estimators', '300');
    const changed = {
      ...CLASSIFICATION,
      params: {
        test_size: 0.3,
        n_estimators: 100,
        max_depth: 5,
        threshold: 0.5
      }
    };
    api.pipelineReply = async () => changed;
    await model.refresh(true);
    const texts = () => Object.fromEntries(model.paramFields.map(f => [f.name, f.text]));
    expect(texts()).toMatchObject({ n_estimators: '300', test_size: '0.3' });
    model.resetParams();
    expect(texts().n_estimators).toBe('100');
    expect(model.state.paramTexts).toEqual({});
  });

  it('sends the changed values with their JSON type', async () => {
    const api = new FakeApi();
    const model = await ready(api, new FakeNotebook('nb.ipynb'));
    model.setParamText('n_estimators', '1500');
    model.setParamText('test_size', '1e-1');
    await model.run();
    expect(api.requests[0].params).toEqual({ n_estimators: 1500, test_size: 0.1 });
  });

  it('keeps edited values per notebook across switches and a reload', async () => {
    const db = new MemoryStateDB();
    const api = new FakeApi();
    const model = new PanelModel(api, POLL_MS, new ParamStore(db));
    await model.checkServer();
    await model.setNotebook(new FakeNotebook('a.ipynb'));
    model.setParamText('n_estimators', '1500');
    await model.setNotebook(new FakeNotebook('b.ipynb'));
    expect(model.state.paramTexts).toEqual({});
    model.setParamText('max_depth', '7');
    await model.setNotebook(new FakeNotebook('a.ipynb'));
    expect(model.state.paramTexts).toEqual({ n_estimators: '1500' });

    const reloaded = new PanelModel(api, POLL_MS, new ParamStore(db));
    await reloaded.checkServer();
    await reloaded.setNotebook(new FakeNotebook('b.ipynb'));
    expect(reloaded.state.paramTexts).toEqual({ max_depth: '7' });
    expect(reloaded.paramFields.find(f => f.name === 'max_depth')!.changed).toBe(true);
    model.dispose();
    reloaded.dispose();
  });

  it('refuses to run with a value that does not parse', async () => {
    const api = new FakeApi();
    const model = await ready(api, new FakeNotebook('nb.ipynb'));
    model.setParamText('max_depth', 'deep');
    await model.run();
    expect(model.state.run).toMatchObject({
      phase: 'error',
      message: "parameter 'max_depth' expects an integer, got deep"
    });
    expect(api.calls).not.toContain('run');
  });
});

describe('extract', () => {
  it('saves the notebook first and reports what was written', async () => {
    const api = new FakeApi();
    const notebook = new FakeNotebook('nb.ipynb');
    notebook.dirty = true;
    const model = await ready(api, notebook);
    await model.extract();
    expect(notebook.saves).toBe(1);
    const { files, ...extract } = model.state.extract;
    expect(extract).toEqual({
      busy: false,
      failed: false,
      message: 'Extracted 5 steps into pipelines/classification/ (21 files changed)'
    });
    // the changed files, for the panel's list under the message
    expect(files).toHaveLength(21);
    expect(files).toContain('pipelines/classification/pipeline.yaml');
  });
});

describe('a run', () => {
  const running = parseRunSnapshot(fixture('run.running.json'));
  const succeeded = parseRunSnapshot(fixture('run.succeeded.json'));

  it('starts with the changed parameters, polls until done, then reloads the records', async () => {
    const api = new FakeApi();
    api.statuses = [running, succeeded];
    const notebook = new FakeNotebook('classification.ipynb');
    notebook.dirty = true;
    const model = await ready(api, notebook);
    model.setParamText('n_estimators', '20');
    await model.run();
    expect(notebook.saves).toBe(1);
    expect(api.requests).toEqual([{ path: 'classification.ipynb', params: { n_estimators: 20 } }]);
    expect(model.state.run.phase).toBe('running');
    expect(Object.values(model.state.run.steps).map(s => s.state)).toEqual(
      Array(5).fill('waiting')
    );
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(model.state.run.steps.split.state).toBe('running');
    const before = api.calls.filter(c => c.startsWith('models')).length;
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(model.state.run).toMatchObject({
      phase: 'succeeded',
      runId: '0d9da82b46394506903cb784b9fb18e7',
      modelVersion: '1'
    });
    expect(api.calls.filter(c => c.startsWith('models')).length).toBe(before + 1);
    await jest.advanceTimersByTimeAsync(POLL_MS * 3);
    expect(api.calls.filter(c => c.startsWith('status')).length).toBe(2);
  });

  it('follows the run already going when the server answers 409', async () => {
    const api = new FakeApi();
    api.started = new ApiError(409, "pipeline 'classification' is already running", {
      id: running.id
    });
    api.statuses = [running];
    const model = await ready(api, new FakeNotebook('classification.ipynb'));
    await model.run();
    expect(model.state.run).toMatchObject({ phase: 'running', id: running.id });
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(model.state.run.steps.load_data.state).toBe('ran');
  });

  it('shows why a run could not start', async () => {
    const api = new FakeApi();
    api.started = new ApiError(400, "unknown parameter 'depth' (parameters: max_depth, …)");
    const model = await ready(api, new FakeNotebook('classification.ipynb'));
    await model.run();
    expect(model.state.run).toMatchObject({
      phase: 'error',
      message: "unknown parameter 'depth' (parameters: max_depth, …)"
    });
  });

  it('cancels through DELETE and ends when the server says cancelled', async () => {
    const api = new FakeApi();
    api.statuses = [running];
    const model = await ready(api, new FakeNotebook('classification.ipynb'));
    await model.run();
    await model.cancel();
    expect(api.calls).toContain(`cancel ${running.id}`);
    expect(model.state.run.phase).toBe('cancelling');
    api.statuses = [{ ...running, status: 'cancelled' }];
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(model.state.run.phase).toBe('cancelled');
    expect(model.state.run.steps.evaluate.state).toBe('cancelled');
  });

  it('reports a lost run after repeated poll failures, at once on 404', async () => {
    const api = new FakeApi();
    api.statuses = [new ApiError(0, 'network down')];
    const model = await ready(api, new FakeNotebook('classification.ipynb'));
    await model.run();
    await jest.advanceTimersByTimeAsync(POLL_MS * (MAX_POLL_FAILURES - 1));
    expect(model.state.run.phase).toBe('running');
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(model.state.run).toMatchObject({
      phase: 'error',
      message: 'lost the run: network down'
    });

    api.statuses = [new ApiError(404, 'no run')];
    await model.run();
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(model.state.run.message).toBe(`the server no longer knows run ${running.id}`);
  });

  it('picks up the run the server has for the notebook (after a reload)', async () => {
    const api = new FakeApi();
    api.remembered = [succeeded, { ...running, id: 'other', path: 'other.ipynb' }];
    const model = await ready(api, new FakeNotebook('classification.ipynb'));
    expect(model.state.run).toMatchObject({
      phase: 'succeeded',
      id: succeeded.id
    });
    expect(model.state.run.steps.train).toEqual({
      state: 'ran',
      seconds: 11.577
    });

    const values = { test_size: 0.25, n_estimators: 1500, max_depth: 5, threshold: 0.5 };
    api.remembered = [{ ...running, id: 'live', params: values }];
    api.statuses = [{ ...succeeded, id: 'live' }];
    await model.setNotebook(new FakeNotebook('classification.ipynb'));
    expect(model.state.run).toMatchObject({ phase: 'running', id: 'live', params: values });
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(model.state.run.phase).toBe('succeeded');
  });

  it('stops following a run when another notebook becomes active', async () => {
    const api = new FakeApi();
    api.statuses = [running];
    const model = await ready(api, new FakeNotebook('classification.ipynb'));
    await model.run();
    await model.setNotebook(new FakeNotebook('other.ipynb'));
    const polls = api.calls.filter(c => c.startsWith('status')).length;
    await jest.advanceTimersByTimeAsync(POLL_MS * 3);
    expect(api.calls.filter(c => c.startsWith('status')).length).toBe(polls);
    expect(model.state.run.phase).toBe('idle');
  });
});
