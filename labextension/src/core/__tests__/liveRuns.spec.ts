/**
 * The live runs of the open notebooks against replies shaped like the contract's
 * `GET run?path=`: parsing, the events between snapshots, the poll rhythm (fast while a
 * run goes on, slow otherwise, paused while the page is hidden), and the panel following
 * a run started elsewhere (RunTracker.observe).
 */
import * as fs from 'fs';
import * as path from 'path';

import {
  currentRun,
  diffRuns,
  FAST_POLL_MS,
  HURRY_POLLS,
  ILiveRunsApi,
  LiveRunEvent,
  LiveRuns,
  parseLiveRun,
  parseLiveRuns,
  pollDelay,
  SLOW_POLL_MS
} from '../liveRuns';
import { ProtocolError } from '../replies';
import { RunTracker } from '../runTracker';
import { IRunState } from '../run';
import { ILiveRunJSON, IMlopsApi, IRunStatusJSON } from '../types';

function fixture(name: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf-8'));
}

const RUNNING = parseLiveRuns(fixture('live.runs.running.json'));
const FAILED = parseLiveRuns(fixture('live.runs.failed.json'));
const NB = 'classification.ipynb';

/** A run like the fixture's running CLI run, with `patch`. */
function run(patch: Partial<ILiveRunJSON> = {}): ILiveRunJSON {
  return { ...RUNNING[0], ...patch };
}

describe('parsing GET run?path=', () => {
  it('reads the live record fields on top of the run snapshot', () => {
    const [cli, panel] = RUNNING;
    expect(cli).toMatchObject({
      id: '20261202-211500-4242',
      source: 'cli',
      status: 'running',
      started: '2026-12-02T21:15:00Z',
      ended: null,
      failed_step: null,
      params: { n_estimators: 100 }
    });
    expect(cli.steps.split).toEqual({ state: 'running', seconds: 0.4 });
    expect(panel).toMatchObject({
      source: 'panel',
      status: 'succeeded',
      run_id: '0d9da82b46394506903cb784b9fb18e7',
      model_version: '1'
    });
    expect(panel.metrics.accuracy).toBeCloseTo(0.958, 3);
    expect(FAILED[0]).toMatchObject({ failed_step: 'train', status: 'failed' });
    expect(FAILED[0].traceback).toContain('InvalidParameterError');
  });

  it('takes an older server snapshot without the new fields', () => {
    const old = parseLiveRun({ id: 'r1', status: 'running', steps: [] });
    expect(old).toMatchObject({ source: null, started: null, failed_step: null, traceback: null });
  });

  it('refuses a reply without runs', () => {
    expect(() => parseLiveRuns({ run: [] })).toThrow(ProtocolError);
    expect(() => parseLiveRuns({ runs: [{ status: 'running' }] })).toThrow(/no id/);
  });
});

describe('diffRuns', () => {
  it('emits nothing for the first snapshot (the baseline)', () => {
    expect(diffRuns(NB, null, RUNNING)).toEqual([]);
  });

  it('reports a new running run as started and a finished one as ended', () => {
    const events = diffRuns(NB, RUNNING.slice(1), RUNNING);
    expect(events).toEqual([{ type: 'started', path: NB, run: RUNNING[0] }]);
    const ended = diffRuns(NB, RUNNING, FAILED);
    expect(ended).toEqual([{ type: 'ended', path: NB, run: FAILED[0], previous: RUNNING[0] }]);
  });

  it('reports a run that started and ended between two polls as ended', () => {
    expect(diffRuns(NB, [], FAILED)).toEqual([
      { type: 'ended', path: NB, run: FAILED[0], previous: null }
    ]);
  });

  it('reports step changes as updates, and not the clock alone', () => {
    const later = run({
      elapsed: 20,
      steps: { ...RUNNING[0].steps, split: { state: 'ran', seconds: 1.4 } }
    });
    expect(diffRuns(NB, [RUNNING[0]], [later])).toEqual([
      { type: 'updated', path: NB, run: later, previous: RUNNING[0] }
    ]);
    expect(diffRuns(NB, [RUNNING[0]], [run({ elapsed: 99 })])).toEqual([]);
  });

  it('gives events oldest run first', () => {
    const a = run({ id: 'a', status: 'succeeded' });
    const b = run({ id: 'b' });
    const events = diffRuns(NB, [], [b, a]);
    expect(events.map(e => `${e.type} ${e.run.id}`)).toEqual(['ended a', 'started b']);
  });
});

describe('currentRun and pollDelay', () => {
  it('shows the running run, else the newest', () => {
    expect(currentRun(RUNNING)?.id).toBe('20261202-211500-4242');
    const finished = [
      run({ id: 'new', status: 'failed' }),
      run({ id: 'old', status: 'succeeded' })
    ];
    expect(currentRun(finished)?.id).toBe('new');
    expect(currentRun([])).toBeNull();
  });

  it('polls fast while a run goes on or after hurry, slow otherwise', () => {
    expect(pollDelay([RUNNING], false, 1, 9)).toBe(1);
    expect(pollDelay([FAILED, []], false, 1, 9)).toBe(9);
    expect(pollDelay([FAILED], true, 1, 9)).toBe(1);
  });
});

/** A server whose replies per path the test sets; counts the requests. */
class FakeLiveApi implements ILiveRunsApi {
  replies = new Map<string, ILiveRunJSON[] | Error>();
  asked: string[] = [];

  async liveRuns(path: string): Promise<ILiveRunJSON[]> {
    this.asked.push(path);
    const reply = this.replies.get(path) ?? [];
    if (reply instanceof Error) {
      throw reply;
    }
    return reply;
  }
}

/** Let the promises of a poll settle (fake timers do not run them). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
  }
}

describe('LiveRuns store', () => {
  let api: FakeLiveApi;
  let live: LiveRuns;
  let events: LiveRunEvent[];

  beforeEach(() => {
    jest.useFakeTimers();
    api = new FakeLiveApi();
    live = new LiveRuns(api);
    events = [];
    live.events.connect((_, event) => events.push(event));
  });

  afterEach(() => {
    live.dispose();
    jest.useRealTimers();
  });

  it('asks at once for a newly watched notebook and polls fast while it runs', async () => {
    api.replies.set(NB, RUNNING);
    live.watch([NB]);
    await settle();
    expect(api.asked).toEqual([NB]);
    expect(live.runs(NB)).toHaveLength(2);
    expect(live.running().map(r => r.run.id)).toEqual(['20261202-211500-4242']);
    jest.advanceTimersByTime(FAST_POLL_MS - 1);
    expect(api.asked).toHaveLength(1);
    api.replies.set(NB, FAILED);
    jest.advanceTimersByTime(1);
    await settle();
    expect(api.asked).toHaveLength(2);
    expect(events.map(e => e.type)).toEqual(['ended']);
    expect(live.running()).toEqual([]);
    // nothing runs: the next poll waits the slow delay
    jest.advanceTimersByTime(SLOW_POLL_MS - 1);
    expect(api.asked).toHaveLength(2);
    jest.advanceTimersByTime(1);
    await settle();
    expect(api.asked).toHaveLength(3);
  });

  it('tells which notebook changed, and forgets the ones closed', async () => {
    const changed: string[] = [];
    live.changed.connect((_, p) => changed.push(p));
    api.replies.set(NB, RUNNING);
    api.replies.set('other.ipynb', FAILED);
    live.watch([NB, 'other.ipynb']);
    await settle();
    expect(changed.sort()).toEqual([NB, 'other.ipynb']);
    live.watch([NB]);
    expect(live.runs('other.ipynb')).toEqual([]);
    expect(changed).toContain('other.ipynb');
  });

  it('pauses while the page is hidden and asks again when it is shown', async () => {
    api.replies.set(NB, RUNNING);
    live.watch([NB]);
    await settle();
    live.setVisible(false);
    jest.advanceTimersByTime(10 * SLOW_POLL_MS);
    await settle();
    expect(api.asked).toHaveLength(1);
    live.setVisible(true);
    await settle();
    expect(api.asked).toHaveLength(2);
  });

  it('keeps the last snapshot when a poll fails, and goes on polling', async () => {
    api.replies.set(NB, RUNNING);
    live.watch([NB]);
    await settle();
    api.replies.set(NB, new Error('server restarting'));
    jest.advanceTimersByTime(FAST_POLL_MS);
    await settle();
    expect(live.runs(NB)).toHaveLength(2);
    api.replies.set(NB, FAILED);
    jest.advanceTimersByTime(FAST_POLL_MS);
    await settle();
    expect(events.map(e => `${e.type} ${e.run.status}`)).toEqual(['ended failed']);
  });

  it('polls fast for a while after hurry, even with nothing running', async () => {
    api.replies.set(NB, FAILED);
    live.watch([NB]);
    await settle();
    live.hurry();
    await settle();
    expect(api.asked).toHaveLength(2);
    for (let i = 0; i < HURRY_POLLS; i++) {
      jest.advanceTimersByTime(FAST_POLL_MS);
      await settle();
    }
    expect(api.asked).toHaveLength(2 + HURRY_POLLS);
    jest.advanceTimersByTime(FAST_POLL_MS);
    await settle();
    expect(api.asked).toHaveLength(2 + HURRY_POLLS);
  });

  it('does not poll without a notebook', async () => {
    live.watch([]);
    jest.advanceTimersByTime(10 * SLOW_POLL_MS);
    await settle();
    expect(api.asked).toEqual([]);
  });
});

/** A server that knows one run (its status replies in order) and never starts one. */
class FakeRunApi implements Pick<IMlopsApi, 'runStatus' | 'activeRuns'> {
  asked: string[] = [];
  constructor(public statuses: IRunStatusJSON[]) {}
  async runStatus(id: string, path?: string): Promise<IRunStatusJSON> {
    this.asked.push(`${id}?path=${path}`);
    return this.statuses.length > 1 ? this.statuses.shift()! : this.statuses[0];
  }
  async activeRuns(): Promise<IRunStatusJSON[]> {
    return [];
  }
}

describe('RunTracker.observe: the panel follows a run started elsewhere', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function tracker(api: FakeRunApi): { tracker: RunTracker; states: IRunState[] } {
    const states: IRunState[] = [];
    const t = new RunTracker(api as unknown as IMlopsApi, 1000, s => states.push(s));
    return { tracker: t, states };
  }

  it('shows a CLI run and polls it with the notebook path until it ends', async () => {
    const api = new FakeRunApi([FAILED[0]]);
    const { tracker: t } = tracker(api);
    t.observe(NB, RUNNING);
    expect(t.current).toMatchObject({ phase: 'running', id: RUNNING[0].id, source: 'cli' });
    expect(t.current.params).toMatchObject({ n_estimators: 100 });
    expect(t.current.steps.split.state).toBe('running');
    jest.advanceTimersByTime(1000);
    await settle();
    expect(api.asked).toEqual([`${RUNNING[0].id}?path=${NB}`]);
    expect(t.current).toMatchObject({ phase: 'failed', source: 'cli' });
    expect(t.current.steps.train.state).toBe('failed');
  });

  it('leaves a run shown alone, and shows only a new one', () => {
    const { tracker: t, states } = tracker(new FakeRunApi([FAILED[0]]));
    t.observe(NB, FAILED);
    expect(t.current.phase).toBe('failed');
    t.observe(NB, FAILED);
    expect(states).toHaveLength(1);
    const newer = { ...FAILED[0], id: 'newer', status: 'succeeded' as const };
    t.observe(NB, [newer, ...FAILED]);
    expect(t.current).toMatchObject({ id: 'newer', phase: 'succeeded' });
  });

  it('does not take over a run going on here', async () => {
    const own = { ...RUNNING[1], id: 'own', status: 'running' as const, source: 'panel' };
    const { tracker: t } = tracker(new FakeRunApi([own]));
    t.observe(NB, [own]);
    expect(t.current.id).toBe('own');
    t.observe(NB, RUNNING);
    expect(t.current.id).toBe('own');
  });

  it('forgets what it observed when the notebook changes', () => {
    const { tracker: t } = tracker(new FakeRunApi([FAILED[0]]));
    t.observe(NB, FAILED);
    t.detach();
    expect(t.current.phase).toBe('idle');
    t.observe(NB, FAILED);
    expect(t.current.phase).toBe('failed');
  });
});
