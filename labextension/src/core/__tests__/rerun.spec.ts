/**
 * The panel model's actions on recorded runs and versions, against a scripted server:
 * "Re-run with these parameters" sets the form (marked changed) and starts a run with
 * them; "Promote" sends the request and reads the models again, a refusal returned.
 */
import * as fs from 'fs';
import * as path from 'path';

import { PanelModel } from '../model';
import { parsePipelineReply } from '../pipeline';
import { parseModels, parseRunHistory, parseRunSnapshot } from '../replies';
import { ApiError, IMlopsApi, IPromoteRequest, IPromotionJSON, IRunRequest } from '../types';
import { FRONTEND_VERSION } from '../version';

function fixture(name: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf-8'));
}

class ScriptedApi {
  calls: string[] = [];
  requests: IRunRequest[] = [];
  promotions: IPromoteRequest[] = [];
  promoteReply: IPromotionJSON | ApiError = {
    name: 'classification',
    version: '1',
    alias: 'champion',
    previous: null,
    gate: { outcome: 'none', reason: '' }
  };

  async version() {
    return FRONTEND_VERSION;
  }
  async pipeline() {
    return parsePipelineReply(fixture('classification.show.json'));
  }
  async startRun(request: IRunRequest) {
    this.requests.push(request);
    return parseRunSnapshot(fixture('run.started.json'));
  }
  async runStatus() {
    return parseRunSnapshot(fixture('run.running.json'));
  }
  async activeRuns() {
    return [];
  }
  async history() {
    this.calls.push('history');
    return parseRunHistory(fixture('runs.reply.json'));
  }
  async models() {
    this.calls.push('models');
    return parseModels(fixture('models.reply.json'));
  }
  async promote(request: IPromoteRequest) {
    this.promotions.push(request);
    if (this.promoteReply instanceof ApiError) {
      throw this.promoteReply;
    }
    return this.promoteReply;
  }
}

const NOTEBOOK = {
  path: 'work/classification.ipynb',
  dirty: false,
  content: () => ({ cells: [] }),
  cells: () => [],
  save: async () => undefined
};

async function ready(api: ScriptedApi): Promise<PanelModel> {
  const model = new PanelModel(api as unknown as IMlopsApi, 1000);
  await model.checkServer();
  await model.setNotebook(NOTEBOOK);
  return model;
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('re-run with a recorded run parameters', () => {
  it('sets the form to its values, marked changed, and runs with them', async () => {
    const api = new ScriptedApi();
    const model = await ready(api);
    await model.rerun({ n_estimators: '20', max_depth: '5', test_size: '0.25', threshold: '0.5' });
    const changed = model.paramFields.filter(f => f.changed).map(f => [f.name, f.text]);
    expect(changed).toEqual([['n_estimators', '20']]);
    expect(api.requests).toEqual([{ path: NOTEBOOK.path, params: { n_estimators: 20 } }]);
    model.dispose();
  });
});

describe('promote', () => {
  it('sends the version, alias and force, then reads the models again', async () => {
    const api = new ScriptedApi();
    const model = await ready(api);
    api.calls = [];
    const reply = await model.promote('classification', '1', 'champion', false);
    expect(reply).toEqual(api.promoteReply);
    expect(api.promotions).toEqual([
      { name: 'classification', version: '1', alias: 'champion', force: false, path: NOTEBOOK.path }
    ]);
    expect(api.calls).toEqual(['history', 'models']);
    model.dispose();
  });

  it('returns a refusal (409) instead of throwing', async () => {
    const api = new ScriptedApi();
    api.promoteReply = new ApiError(409, 'accuracy 0.8 < 0.9');
    const model = await ready(api);
    const reply = await model.promote('classification', '1', 'champion', false);
    expect(reply).toBeInstanceOf(ApiError);
    expect((reply as ApiError).status).toBe(409);
    model.dispose();
  });
});
