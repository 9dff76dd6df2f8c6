/**
 * The Deployments section's logic: the reply parsers and texts (deployments.ts) and the
 * model (deploymentsModel.ts) against a scripted server: loading the targets of the followed
 * notebook, a rollout followed to its outcome, a rollout already going on, rollbacks.
 */
import {
  deployQuestion,
  formatMs,
  formatPercent,
  moveText,
  parseDeployments,
  parseRollback,
  parseRollout,
  heldVersion,
  rollbackQuestion,
  rolloutOutcome,
  serviceDown,
  splitOf,
  targetWhere,
  verificationText
} from '../deployments';
import { DeploymentsModel, MAX_ROLLOUT_POLL_FAILURES } from '../deploymentsModel';
import { ProtocolError } from '../replies';
import {
  ApiError,
  IDeployTargetJSON,
  IDeploymentsApi,
  IDeploymentsJSON,
  IRolloutJSON,
  IServiceStateJSON
} from '../types';

const POLL_MS = 1000;

/** A `GET deployments` reply as the server extension writes it. */
function deploymentsReply(activeRollout: string | null = null): unknown {
  return {
    folder: 'work/pipelines/flowers',
    pipeline: 'flowers',
    model: 'flowers',
    problem: null,
    targets: [
      {
        name: 'prod',
        kind: 'rest',
        alias: 'production',
        url: 'http://127.0.0.1:8080',
        strategy: 'canary',
        steps: [10, 50],
        interval: 30.0,
        analysis: { max_error_rate: 0.01 },
        service: {
          url: 'http://127.0.0.1:8080',
          reachable: true,
          problem: null,
          model: 'flowers',
          alias: 'production',
          alias_version: '1',
          ready: true,
          rollout: 'r-1',
          versions: [
            {
              version: '1',
              share: 90,
              role: 'stable',
              stats: { requests: 200, errors: 1, error_rate: 0.005, p99_ms: 12.5 }
            },
            { version: 2, share: 10, role: 'candidate', stats: null },
            { version: '3', share: 0, role: 'shadow', stats: null }
          ]
        },
        history: [
          {
            time: '2026-12-02T07:10:03.120Z',
            user: 'alice',
            alias: 'production',
            from: null,
            to: '1',
            reason: 'promote',
            gate: 'validated',
            rollout: null,
            note: null
          }
        ],
        active_rollout: activeRollout
      },
      {
        name: 'down',
        alias: 'production',
        url: 'http://127.0.0.1:9',
        strategy: 'blue-green',
        service: {
          url: 'http://127.0.0.1:9',
          reachable: false,
          problem: 'cannot reach the prediction service at http://127.0.0.1:9: refused'
        },
        history: []
      }
    ]
  };
}

/** A rest target's service (the test fails when the target has none). */
function serviceOf(target: IDeployTargetJSON): IServiceStateJSON {
  if (!target.service) {
    throw new Error(`target ${target.name} has no service`);
  }
  return target.service;
}

/** A `GET deployments` reply with one target of each one-step kind. */
function oneStepKindsReply(): unknown {
  return {
    pipeline: 'flowers',
    model: 'flowers',
    problem: null,
    targets: [
      {
        name: 'table',
        kind: 'batch',
        alias: 'production',
        into: 'sqlite:///predictions.db',
        state: {
          version: '2',
          where: 'sqlite:///predictions.db#flowers_predictions',
          detail: '150 rows scored 2026-12-02T13:00:00+00:00; previous table: version 1',
          problem: null
        },
        verification: {
          rollout: 'r-20261202T130000-ab12',
          outcome: 'promoted',
          reason: 'every check passed',
          time: '2026-12-02T13:00:00+00:00',
          metrics: { rows: 150, null_fraction: 0, prediction_drift: 0.0123456 }
        },
        history: []
      },
      { name: 'wheel', kind: 'package', alias: 'production', state: null, history: [] }
    ]
  };
}

function rollout(status: string, lines: string[], extra: object = {}): IRolloutJSON {
  return parseRollout({
    id: 'abc',
    target: 'prod',
    version: '2',
    status,
    progress: lines.map(message => ({ kind: 'phase', message })),
    result: status === 'running' ? null : { reason: 'every check passed' },
    error: null,
    ...extra
  });
}

describe('deployment replies', () => {
  it('reads the targets, their live service, metrics and history', () => {
    const reply = parseDeployments(deploymentsReply());
    expect(reply.model).toBe('flowers');
    const [prod, down] = reply.targets;
    expect(serviceOf(prod).versions.map(v => [v.version, v.share, v.role])).toEqual([
      ['1', 90, 'stable'],
      ['2', 10, 'candidate'],
      ['3', 0, 'shadow']
    ]);
    expect(serviceOf(prod).versions[0].stats).toEqual({
      requests: 200,
      errors: 1,
      error_rate: 0.005,
      p99_ms: 12.5
    });
    expect(prod.history[0].to).toBe('1');
    expect(prod.active_rollout).toBeNull();
    expect(serviceOf(down).reachable).toBe(false);
    expect(serviceOf(down).versions).toEqual([]);
    expect(serviceDown(serviceOf(down))).toBe(
      'Not reachable: cannot reach the prediction service at http://127.0.0.1:9: refused'
    );
    expect(serviceDown({ ...serviceOf(down), problem: null })).toBe(
      'Not reachable: no answer from http://127.0.0.1:9'
    );
  });

  it('refuses replies of another shape', () => {
    expect(() => parseDeployments({ targets: 3 })).toThrow(ProtocolError);
    expect(() => parseRollout({ status: 'running' })).toThrow(ProtocolError);
    expect(() => parseRollback({})).toThrow(ProtocolError);
  });

  it('reads rollouts, unknown states as running', () => {
    expect(rollout('promoted', ['a']).reason).toBe('every check passed');
    expect(rollout('exploded', []).status).toBe('running');
    const asked = { version: null, result: { reason: 'every check passed', candidate: '3' } };
    expect(rollout('promoted', [], asked).version).toBe('3');
    expect(rollout('running', ['a', 'b']).progress.map(l => l.message)).toEqual(['a', 'b']);
  });
});

describe('deployment texts', () => {
  it('formats shares, error rates and latencies', () => {
    expect(formatPercent(0.9)).toBe('90 %');
    expect(formatPercent(0.0025)).toBe('0.25 %');
    expect(formatMs(null)).toBe('–');
    expect(formatMs(3.14159)).toBe('3.14 ms');
    expect(formatMs(120.04)).toBe('120.0 ms');
  });

  it('reads batch and package targets: what they hold and their last verification', () => {
    const [table, wheel] = parseDeployments(oneStepKindsReply()).targets;
    expect(table.kind).toBe('batch');
    expect(table.service).toBeNull();
    expect(table.strategy).toBe('swap');
    expect(heldVersion(table)).toBe('2');
    expect(targetWhere(table)).toBe('sqlite:///predictions.db#flowers_predictions');
    expect(verificationText(table.verification)).toBe(
      'last rollout promoted · rows 150 · null_fraction 0 · prediction_drift 0.0123'
    );
    expect(deployQuestion(table, '3')).toContain('Deploy version 3 to batch target table');
    expect(rollbackQuestion(table)).toContain("batch target's previous table is restored");
    expect(wheel.strategy).toBe('replace');
    expect(wheel.state).toEqual({ version: null, where: '', detail: '', problem: null });
    expect(heldVersion(wheel)).toBeNull();
    expect(wheel.verification).toBeNull();
    expect(verificationText(wheel.verification)).toBeNull();
  });

  it('orders the split by share, versions without traffic apart', () => {
    const service = serviceOf(parseDeployments(deploymentsReply()).targets[0]);
    const { serving, idle } = splitOf(service);
    expect(serving.map(v => v.version)).toEqual(['1', '2']);
    expect(idle.map(v => v.version)).toEqual(['3']);
  });

  it('says what moved and how a rollout ended', () => {
    const move = parseDeployments(deploymentsReply()).targets[0].history[0];
    expect(moveText(move)).toBe('production (unset) → 1');
    expect(rolloutOutcome(rollout('running', []))).toBeNull();
    expect(rolloutOutcome(rollout('running', [], { stopping: true }))).toBe(
      'stopping: the rollout rolls back at its next step…'
    );
    expect(rolloutOutcome(rollout('promoted', []))).toBe(
      'Promoted: version 2 now serves target prod.'
    );
    expect(rolloutOutcome(rollout('rolled_back', [], { error: 'p99 300 ms > 100 ms' }))).toBe(
      'Rolled back: p99 300 ms > 100 ms'
    );
    expect(rolloutOutcome(rollout('failed', [], { error: 'no alias challenger' }))).toBe(
      'The rollout could not run: no alias challenger'
    );
    const prod = parseDeployments(deploymentsReply()).targets[0];
    expect(deployQuestion(prod, null)).toContain('the version alias challenger points at');
    expect(deployQuestion(prod, '4')).toContain('Roll version 4 out to target prod (canary');
  });
});

class FakeApi implements IDeploymentsApi {
  calls: string[] = [];
  replies: (() => Promise<IDeploymentsJSON>)[] = [];
  started: IRolloutJSON | ApiError = rollout('running', ['start']);
  statuses: (IRolloutJSON | ApiError)[] = [];
  rolledBack: string | ApiError = 'flowers: production 2 → 1 (rollback)';
  stopped: IRolloutJSON | ApiError = rollout('running', ['start']);

  async deployments(path: string): Promise<IDeploymentsJSON> {
    this.calls.push(`deployments ${path}`);
    const next = this.replies.shift();
    return next ? next() : parseDeployments(deploymentsReply());
  }
  async deploy(path: string, target: string, version?: string): Promise<IRolloutJSON> {
    this.calls.push(`deploy ${path} ${target} ${version ?? '-'}`);
    if (this.started instanceof ApiError) {
      throw this.started;
    }
    return this.started;
  }
  async rollout(id: string): Promise<IRolloutJSON> {
    this.calls.push(`rollout ${id}`);
    const next = this.statuses.shift();
    if (next === undefined || next instanceof ApiError) {
      throw next ?? new ApiError(0, 'no reply');
    }
    return next;
  }
  async stopRollout(id: string): Promise<IRolloutJSON> {
    this.calls.push(`stop ${id}`);
    if (this.stopped instanceof ApiError) {
      throw this.stopped;
    }
    return this.stopped;
  }
  async rollback(path: string, target: string): Promise<string> {
    this.calls.push(`rollback ${path} ${target}`);
    if (this.rolledBack instanceof ApiError) {
      throw this.rolledBack;
    }
    return this.rolledBack;
  }
}

describe('the deployments model', () => {
  let api: FakeApi;
  let model: DeploymentsModel;

  beforeEach(() => {
    jest.useFakeTimers();
    api = new FakeApi();
    model = new DeploymentsModel(api, POLL_MS, 2);
  });

  afterEach(() => {
    model.dispose();
    jest.useRealTimers();
  });

  it('loads the targets of the notebook followed, and forgets them for none', async () => {
    await model.follow('work/flowers.ipynb');
    expect(api.calls).toEqual(['deployments work/flowers.ipynb']);
    expect(model.state.reply?.targets.map(t => t.name)).toEqual(['prod', 'down']);
    await model.follow('work/flowers.ipynb');
    expect(api.calls).toHaveLength(1);
    await model.follow(null);
    expect(model.state.reply).toBeNull();
  });

  it('drops a reply for the notebook followed before', async () => {
    let answer: (reply: IDeploymentsJSON) => void = () => undefined;
    api.replies.push(() => new Promise(resolve => (answer = resolve)));
    const first = model.follow('a.ipynb');
    await model.follow('b.ipynb');
    answer(parseDeployments({ ...(deploymentsReply() as object), model: 'other' }));
    await first;
    expect(model.state.path).toBe('b.ipynb');
    expect(model.state.reply?.model).toBe('flowers');
  });

  it('shows why the targets could not be loaded', async () => {
    api.replies.push(async () => {
      throw new ApiError(400, 'deploy.prod.url must be the service URL');
    });
    await model.follow('a.ipynb');
    expect(model.state.message).toBe('deploy.prod.url must be the service URL');
    expect(model.state.loading).toBe(false);
  });

  it('follows a rollout to its outcome, reloading the targets on the way', async () => {
    await model.follow('a.ipynb');
    api.statuses.push(
      rollout('running', ['start', 'smoke test passed']),
      rollout('running', ['start', 'smoke test passed', 'phase 1']),
      rollout('promoted', ['start', 'smoke test passed', 'phase 1', 'promoted'])
    );
    await model.deploy('prod', '2');
    expect(api.calls).toContain('deploy a.ipynb prod 2');
    expect(model.state.actions.prod).toMatchObject({ kind: 'deploy', busy: true });
    expect(model.busy('prod')).toBe(true);
    await model.deploy('prod');
    expect(api.calls.filter(c => c.startsWith('deploy '))).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(model.state.actions.prod.rollout?.progress).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(api.calls.filter(c => c.startsWith('deployments'))).toHaveLength(2); // every 2nd poll
    await jest.advanceTimersByTimeAsync(POLL_MS);
    const done = model.state.actions.prod;
    expect(done).toMatchObject({ busy: false, failed: false });
    expect(done.message).toBe('Promoted: version 2 now serves target prod.');
    expect(api.calls.filter(c => c.startsWith('deployments'))).toHaveLength(3);
    await jest.advanceTimersByTimeAsync(POLL_MS * 5);
    expect(api.calls.filter(c => c.startsWith('rollout'))).toHaveLength(3);
  });

  it('reports a rolled-back rollout as failed, with its reason', async () => {
    await model.follow('a.ipynb');
    api.statuses.push(rollout('rolled_back', ['x'], { error: 'canary 10%: p99 FAILED' }));
    await model.deploy('prod');
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(model.state.actions.prod).toMatchObject({
      busy: false,
      failed: true,
      message: 'Rolled back: canary 10%: p99 FAILED'
    });
  });

  it('follows the rollout already going on when the server answers 409', async () => {
    await model.follow('a.ipynb');
    api.started = new ApiError(409, 'a rollout is already going on', { id: 'other' });
    api.statuses.push(rollout('promoted', ['done'], { id: 'other' }));
    await model.deploy('prod');
    expect(model.state.actions.prod.message).toBe('following rollout other…');
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(api.calls).toContain('rollout other');
    expect(model.state.actions.prod.busy).toBe(false);
  });

  it('shows a refused deploy and picks up a rollout the server runs after a reload', async () => {
    api.started = new ApiError(400, "no deploy target 'prod'");
    await model.follow('a.ipynb');
    await model.deploy('prod');
    expect(model.state.actions.prod).toMatchObject({ failed: true, busy: false });
    api.replies.push(async () => parseDeployments(deploymentsReply('r9')));
    api.statuses.push(rollout('running', ['a'], { id: 'r9' }));
    await model.load();
    expect(model.busy('prod')).toBe(true);
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(api.calls).toContain('rollout r9');
  });

  it('ends following a rollout the server forgot, or after repeated failures', async () => {
    await model.follow('a.ipynb');
    api.statuses.push(new ApiError(404, 'no rollout'));
    await model.deploy('prod');
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(model.state.actions.prod.message).toBe('the server no longer knows rollout abc');
    await model.deploy('down');
    await jest.advanceTimersByTimeAsync(POLL_MS * MAX_ROLLOUT_POLL_FAILURES);
    expect(model.state.actions.down.message).toBe('lost the rollout: no reply');
    expect(model.busy('down')).toBe(false);
  });

  it('rolls back, then reloads; a refused rollback shows why', async () => {
    await model.follow('a.ipynb');
    await model.rollback('prod');
    expect(api.calls.slice(-2)).toEqual(['rollback a.ipynb prod', 'deployments a.ipynb']);
    expect(model.state.actions.prod).toMatchObject({
      kind: 'rollback',
      busy: false,
      failed: false,
      message: 'flowers: production 2 → 1 (rollback)'
    });
    api.rolledBack = new ApiError(400, "alias 'production' has no earlier version recorded");
    await model.rollback('prod');
    expect(model.state.actions.prod.failed).toBe(true);
  });

  it('stops the rollout it follows; it rolls back at its next step', async () => {
    await model.follow('a.ipynb');
    await model.stop('prod');
    expect(api.calls.filter(c => c.startsWith('stop'))).toEqual([]); // nothing to stop
    api.statuses.push(
      rollout('running', ['a'], { stopping: true }),
      rollout('rolled_back', ['a'], { error: 'stopped from the panel' })
    );
    await model.deploy('prod');
    await model.stop('prod');
    expect(api.calls).toContain('stop abc');
    expect(model.state.actions.prod.message).toBe(
      'stopping: the rollout rolls back at its next step…'
    );
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(model.state.actions.prod.message).toMatch(/^stopping/); // still, from the server
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(model.state.actions.prod).toMatchObject({
      busy: false,
      failed: true,
      message: 'Rolled back: stopped from the panel'
    });
  });

  it('says why a rollout could not be stopped, unless it had already ended', async () => {
    await model.follow('a.ipynb');
    await model.deploy('prod');
    api.stopped = new ApiError(409, "rollout 'abc' already ended (promoted)");
    await model.stop('prod');
    expect(model.state.actions.prod.message).toBeNull(); // the running rollout's, unchanged
    api.stopped = new ApiError(0, 'cannot reach the Jupyter server');
    await model.stop('prod');
    expect(model.state.actions.prod.message).toBe(
      'cannot stop the rollout: cannot reach the Jupyter server'
    );
  });

  it('stops polling for a notebook no longer followed', async () => {
    await model.follow('a.ipynb');
    api.statuses.push(rollout('running', ['a']));
    await model.deploy('prod');
    await model.follow('b.ipynb');
    await jest.advanceTimersByTimeAsync(POLL_MS * 3);
    expect(api.calls.filter(c => c.startsWith('rollout'))).toHaveLength(0);
    expect(model.state.actions).toEqual({});
  });
});
