/**
 * The Monitoring section's logic: the reply parser and texts (monitoring.ts), the sparkline
 * geometry, and the model (monitoringModel.ts) against a scripted server: loading the
 * overview of the followed notebook, dropped stale replies, failures, the report URL, and
 * when the panel's state makes it reload.
 */
import {
  cooldownText,
  datasetDriftText,
  driftWord,
  formatDuration,
  formatNumber,
  parseMonitoring,
  polylinePoints,
  sparkline,
  trendText,
  windowSummary
} from '../monitoring';
import { cueChange, MonitoringModel, panelCue } from '../monitoringModel';
import { ProtocolError } from '../replies';
import { INITIAL_STATE, IPanelState } from '../state';
import { ApiError, IMonitoringApi, IMonitoringJSON, ITrendPointJSON } from '../types';

/** A `GET monitoring` reply as the server extension writes it. */
function monitoringReply(): unknown {
  return {
    folder: 'work/pipelines/shop',
    pipeline: 'shop',
    problem: null,
    models: [
      {
        name: 'shop-clf',
        step: 'train',
        experiment: 'shop-clf-monitoring',
        monitored: true,
        hint: null,
        problem: null,
        latest: {
          run_id: 'r3',
          start: '2026-12-02T10:00:00+00:00',
          end: '2026-12-02T11:00:00+00:00',
          rows: 300,
          versions: { '1': 180, '2': 120 },
          drift: {
            share: 0.5,
            dataset_drifted: true,
            columns: [
              { column: 'petal', test: 'ks', statistic: 0.6, drifted: true },
              { column: 'sepal', test: null, statistic: 0.05, drifted: false },
              { column: 'bad', statistic: 'NaN', drifted: 'yes' }
            ]
          },
          prediction_drift: { statistic: 0.25, drifted: false },
          performance: { metrics: { accuracy: 0.8, f1: 'x' }, estimated: true },
          report: true
        },
        trend: {
          windows: 3,
          metrics: {
            accuracy: [
              { start: '2026-12-02T08:00:00+00:00', value: 0.95, estimated: false },
              { start: '2026-12-02T09:00:00+00:00', value: 0.9, estimated: false },
              { start: '2026-12-02T10:00:00+00:00', value: 0.8, estimated: true },
              { start: 'broken', value: null }
            ],
            empty: []
          }
        }
      },
      {
        name: 'shop-reg',
        step: 'fit',
        experiment: 'shop-reg-monitoring',
        monitored: false,
        hint: 'not monitored yet: start with `jupyter mlops monitor shop-reg --service-log DIR`',
        problem: null,
        latest: null,
        trend: { windows: 0, metrics: {} }
      }
    ],
    triggers: [
      {
        name: 'decaying',
        kind: 'decay',
        settings: 'accuracy < 0.85 in 2 windows of shop-clf',
        cooldown_seconds: 3600,
        deploy: 'prod',
        last_evaluated: '2026-12-02T11:05:00+00:00',
        last_fired: '2026-12-02T11:05:00+00:00',
        reason: 'accuracy 0.8 < 0.85',
        last_run: { run_id: 'x', status: 'succeeded' },
        cooldown_remaining_seconds: 3000
      },
      { name: 'nightly', kind: 'schedule', settings: 'cron 0 3 * * * (UTC)' }
    ],
    triggers_problem: null
  };
}

describe('monitoring replies', () => {
  it('reads the latest window, the trend and the triggers, dropping malformed values', () => {
    const reply = parseMonitoring(monitoringReply());
    const [clf, reg] = reply.models;
    expect(clf.latest?.columns).toEqual([
      { column: 'petal', test: 'ks', statistic: 0.6, drifted: true },
      { column: 'sepal', test: null, statistic: 0.05, drifted: false },
      { column: 'bad', test: null, statistic: null, drifted: false }
    ]);
    expect(clf.latest?.performance).toEqual({ metrics: { accuracy: 0.8 }, estimated: true });
    expect(clf.latest?.predictionDrift).toEqual({ statistic: 0.25, drifted: false });
    expect(clf.latest?.datasetDrifted).toBe(true);
    expect(clf.latest?.report).toBe(true);
    expect(Object.keys(clf.trend)).toEqual(['accuracy']);
    expect(clf.trend.accuracy.map(p => p.estimated)).toEqual([false, false, true]);
    expect(clf.trendWindows).toBe(3);
    expect(reg.monitored).toBe(false);
    expect(reg.latest).toBeNull();
    expect(reg.hint).toContain('jupyter mlops monitor shop-reg');
    const [decaying, nightly] = reply.triggers;
    expect(decaying).toEqual({
      name: 'decaying',
      kind: 'decay',
      settings: 'accuracy < 0.85 in 2 windows of shop-clf',
      deploy: 'prod',
      lastEvaluated: '2026-12-02T11:05:00+00:00',
      lastFired: '2026-12-02T11:05:00+00:00',
      reason: 'accuracy 0.8 < 0.85',
      runStatus: 'succeeded',
      cooldownRemainingSeconds: 3000
    });
    expect(nightly.lastFired).toBeNull();
    expect(nightly.cooldownRemainingSeconds).toBe(0);
    expect(reply.triggersProblem).toBeNull();
  });

  it('refuses replies of another shape', () => {
    expect(() => parseMonitoring({ targets: [] })).toThrow(ProtocolError);
    expect(() => parseMonitoring(null)).toThrow(ProtocolError);
  });
});

describe('monitoring texts', () => {
  const reply = parseMonitoring(monitoringReply());
  const latest = reply.models[0].latest!;

  it('says drift in words, not colour alone', () => {
    expect([driftWord(true), driftWord(false), driftWord(null)]).toEqual([
      'drifted',
      'stable',
      'not measured'
    ]);
    expect(datasetDriftText(latest)).toBe('share 0.5 of the features');
    expect(datasetDriftText({ ...latest, datasetDrifted: null })).toBeNull();
    expect(datasetDriftText({ ...latest, driftShare: null })).toBeNull();
    expect(windowSummary(latest)).toBe('300 rows · v1 180, v2 120 · 1 of 3 features drifted');
  });

  it('formats numbers, durations and cool-downs', () => {
    expect([
      formatNumber(0.123456),
      formatNumber(12),
      formatNumber(0.5),
      formatNumber(100.04),
      formatNumber(0.95),
      formatNumber(null)
    ]).toEqual(['0.123', '12', '0.5', '100', '0.95', '–']);
    expect([
      formatDuration(45),
      formatDuration(600),
      formatDuration(3900),
      formatDuration(172800)
    ]).toEqual(['45 s', '10 min', '1 h 5 min', '2 d']);
    expect(cooldownText(reply.triggers[0])).toBe('cool-down 50 min left');
    expect(cooldownText(reply.triggers[1])).toBeNull();
  });

  it('describes a trend, with how many points were estimated', () => {
    const points = reply.models[0].trend.accuracy;
    expect(trendText('accuracy', points)).toBe('accuracy: 0.95 → 0.8 (3 windows, 1 estimated)');
    expect(trendText('accuracy', points.slice(0, 1))).toBe('accuracy: 0.95 (1 window)');
    expect(trendText('f1', [])).toBe('f1: no values');
  });
});

describe('sparklines', () => {
  const point = (value: number, estimated = false): ITrendPointJSON => ({
    start: '2026-12-02T08:00:00+00:00',
    value,
    estimated
  });

  it('spreads the points left to right, the highest value at the top', () => {
    const spark = sparkline([point(1), point(0), point(0.5, true)], 106, 26, 3);
    expect(spark.map(p => p.x)).toEqual([3, 53, 103]);
    expect(spark.map(p => p.y)).toEqual([3, 23, 13]);
    expect(spark.map(p => p.estimated)).toEqual([false, false, true]);
    expect(polylinePoints(spark)).toBe('3.0,3.0 53.0,23.0 103.0,13.0');
  });

  it('centres a single point and a flat line; nothing for no points', () => {
    expect(sparkline([point(0.9)], 120, 28)).toEqual([
      { x: 60, y: 14, value: 0.9, estimated: false, start: point(0.9).start }
    ]);
    expect(sparkline([point(0.9), point(0.9)], 120, 28).map(p => p.y)).toEqual([14, 14]);
    expect(sparkline([], 120, 28)).toEqual([]);
  });
});

class FakeApi implements IMonitoringApi {
  calls: string[] = [];
  replies: (() => Promise<IMonitoringJSON>)[] = [];

  async monitoring(path: string): Promise<IMonitoringJSON> {
    this.calls.push(`monitoring ${path}`);
    const next = this.replies.shift();
    return next ? next() : parseMonitoring(monitoringReply());
  }

  reportUrl(path: string, model: string): string {
    return `/jupyter-mlops/monitoring/report?path=${path}&model=${model}`;
  }
}

describe('the monitoring model', () => {
  let api: FakeApi;
  let model: MonitoringModel;

  beforeEach(() => {
    api = new FakeApi();
    model = new MonitoringModel(api);
  });

  afterEach(() => model.dispose());

  it('loads the overview of the notebook followed, and forgets it for none', async () => {
    await model.follow('work/shop.ipynb');
    expect(api.calls).toEqual(['monitoring work/shop.ipynb']);
    expect(model.state.reply?.models.map(m => m.name)).toEqual(['shop-clf', 'shop-reg']);
    await model.follow('work/shop.ipynb');
    expect(api.calls).toHaveLength(1);
    await model.load();
    expect(api.calls).toHaveLength(2);
    expect(model.reportUrl('shop-clf')).toBe(
      '/jupyter-mlops/monitoring/report?path=work/shop.ipynb&model=shop-clf'
    );
    await model.follow(null);
    expect(model.state.reply).toBeNull();
    expect(model.reportUrl('shop-clf')).toBeNull();
  });

  it('drops a reply for the notebook followed before', async () => {
    let answer: (reply: IMonitoringJSON) => void = () => undefined;
    api.replies.push(() => new Promise(resolve => (answer = resolve)));
    const first = model.follow('a.ipynb');
    await model.follow('b.ipynb');
    answer({ ...parseMonitoring(monitoringReply()), pipeline: 'other' });
    await first;
    expect(model.state.path).toBe('b.ipynb');
    expect(model.state.reply?.pipeline).toBe('shop');
  });

  it('shows why the overview could not be loaded', async () => {
    api.replies.push(async () => {
      throw new ApiError(403, "'path' may not contain '..'");
    });
    await model.follow('a.ipynb');
    expect(model.state.message).toBe("'path' may not contain '..'");
    expect(model.state.loading).toBe(false);
    await model.load();
    expect(model.state.message).toBeNull();
    expect(model.state.reply).not.toBeNull();
  });
});

describe("when the panel's state makes the section reload", () => {
  const ready: IPanelState = { ...INITIAL_STATE, server: 'ok', notebook: 'work/shop.ipynb' };

  it('follows the notebook while the server is usable', () => {
    expect(panelCue(ready).path).toBe('work/shop.ipynb');
    expect(panelCue({ ...ready, server: 'unreachable' }).path).toBeNull();
    expect(cueChange(panelCue(INITIAL_STATE), ready)).toBe('follow');
  });

  it('loads again after an extraction and when the panel reloads its run records', () => {
    const seen = panelCue(ready);
    expect(cueChange(seen, { ...ready })).toBeNull();
    const extracting = { ...ready, extract: { busy: true, message: 'extracting…', failed: false } };
    expect(cueChange(seen, extracting)).toBeNull();
    const extracted = { ...ready, extract: { busy: false, message: 'extracted', failed: false } };
    expect(cueChange(seen, extracted)).toBe('load');
    const history = { runs: [], problem: null } as unknown as IPanelState['history'];
    expect(cueChange(seen, { ...ready, history })).toBe('load');
    expect(cueChange(panelCue({ ...ready, history }), { ...ready, history: null })).toBeNull();
  });
});
