import { IDLE_RUN, IRunState, isRunActive, RunEvent, runReducer, runSummary } from '../run';
import { IRunStatusJSON } from '../types';

function status(patch: Partial<IRunStatusJSON> = {}): IRunStatusJSON {
  return {
    id: 'r1',
    path: 'nb.ipynb',
    pipeline: 'nb',
    status: 'running',
    elapsed: 1.5,
    steps: {},
    log: [],
    recording: false,
    run_id: null,
    model_version: null,
    metrics: {},
    gate: null,
    error: null,
    params: null,
    ...patch
  };
}

function play(...events: RunEvent[]): IRunState {
  return events.reduce(runReducer, IDLE_RUN);
}

describe('run state machine', () => {
  it('goes idle -> starting -> running -> succeeded', () => {
    const starting = play({ type: 'start', steps: ['a', 'b'] });
    expect(starting.phase).toBe('starting');
    expect(starting.steps).toEqual({
      a: { state: 'waiting', seconds: 0 },
      b: { state: 'waiting', seconds: 0 }
    });
    const running = runReducer(starting, { type: 'started', id: 'r1' });
    expect(running).toMatchObject({ phase: 'running', id: 'r1' });
    const progress = runReducer(running, {
      type: 'status',
      status: status({ steps: { a: { state: 'running', seconds: 0.4 } } })
    });
    expect(progress.steps.a).toEqual({ state: 'running', seconds: 0.4 });
    expect(progress.steps.b).toEqual({ state: 'waiting', seconds: 0 });
    expect(isRunActive(progress)).toBe(true);
    const done = runReducer(progress, {
      type: 'status',
      status: status({
        status: 'succeeded',
        elapsed: 9,
        run_id: 'mlflow123',
        model_version: '2',
        metrics: { accuracy: 0.9 },
        steps: {
          a: { state: 'ran', seconds: 4.2 },
          b: { state: 'cached', seconds: 0 }
        }
      })
    });
    expect(done).toMatchObject({
      phase: 'succeeded',
      runId: 'mlflow123',
      modelVersion: '2',
      metrics: { accuracy: 0.9 },
      elapsed: 9,
      message: null
    });
    expect(isRunActive(done)).toBe(false);
    expect(runSummary(done)).toBe('succeeded: 1 ran, 1 cached');
  });

  it('ignores events that do not fit the phase', () => {
    const running = play({ type: 'start', steps: ['a'] }, { type: 'started', id: 'r1' });
    expect(runReducer(running, { type: 'start', steps: ['x'] })).toBe(running);
    expect(runReducer(running, { type: 'started', id: 'r2' })).toBe(running);
    expect(runReducer(running, { type: 'reset' })).toBe(running);
    expect(runReducer(IDLE_RUN, { type: 'status', status: status() })).toBe(IDLE_RUN);
    expect(runReducer(IDLE_RUN, { type: 'cancel' })).toBe(IDLE_RUN);
    expect(runReducer(IDLE_RUN, { type: 'error', message: 'x' })).toBe(IDLE_RUN);
  });

  it('ignores the status of another run', () => {
    const running = play({ type: 'start', steps: ['a'] }, { type: 'started', id: 'r1' });
    expect(runReducer(running, { type: 'status', status: status({ id: 'other' }) })).toBe(running);
  });

  it('cancels: running -> cancelling -> cancelled, unfinished steps marked cancelled', () => {
    const running = play(
      { type: 'start', steps: ['a', 'b'] },
      { type: 'started', id: 'r1' },
      {
        type: 'status',
        status: status({ steps: { a: { state: 'running', seconds: 1 } } })
      }
    );
    const cancelling = runReducer(running, { type: 'cancel' });
    expect(cancelling.phase).toBe('cancelling');
    // the server still says running until the process is gone: stay cancelling
    const still = runReducer(cancelling, { type: 'status', status: status() });
    expect(still.phase).toBe('cancelling');
    const cancelled = runReducer(still, {
      type: 'status',
      status: status({ status: 'cancelled' })
    });
    expect(cancelled.phase).toBe('cancelled');
    expect(cancelled.steps.a.state).toBe('cancelled');
    expect(cancelled.steps.b.state).toBe('cancelled');
    expect(cancelled.message).toBe('cancelled');
    expect(runSummary(cancelled)).toBe('cancelled: 0 of 2 steps done');
    const oneDone = {
      ...cancelled,
      steps: { ...cancelled.steps, a: { state: 'ran' as const, seconds: 2 } }
    };
    expect(runSummary(oneDone)).toBe('cancelled: 1 of 2 steps done (cached for the next run)');
  });

  it('can be cancelled before the server answered the start', () => {
    const cancelling = play({ type: 'start', steps: ['a'] }, { type: 'cancel' });
    expect(cancelling).toMatchObject({ phase: 'cancelling', id: null });
    const withId = runReducer(cancelling, { type: 'started', id: 'r1' });
    expect(withId).toMatchObject({ phase: 'cancelling', id: 'r1' });
  });

  it('reports a failed run with its error, and steps that never ran', () => {
    const failed = play(
      { type: 'start', steps: ['a', 'b'] },
      { type: 'started', id: 'r1' },
      {
        type: 'status',
        status: status({
          status: 'failed',
          error: "step 'a' failed: ZeroDivisionError",
          steps: { a: { state: 'failed', seconds: 0.2 } }
        })
      }
    );
    expect(failed.phase).toBe('failed');
    expect(failed.steps.b.state).toBe('not_run');
    expect(runSummary(failed)).toBe("failed: step 'a' failed: ZeroDivisionError");
  });

  it('ends in error when a request fails, and can start again', () => {
    const error = play(
      { type: 'start', steps: ['a'] },
      { type: 'error', message: 'unknown parameter x' }
    );
    expect(error).toMatchObject({
      phase: 'error',
      message: 'unknown parameter x'
    });
    expect(error.steps.a.state).toBe('not_run');
    expect(runSummary(error)).toBe('error: unknown parameter x');
    expect(runReducer(error, { type: 'start', steps: ['a'] }).phase).toBe('starting');
    expect(runReducer(error, { type: 'reset' })).toBe(IDLE_RUN);
  });

  it('attaches to a run the server already has', () => {
    const attached = runReducer(IDLE_RUN, {
      type: 'attach',
      status: status({ id: 'r9', steps: { a: { state: 'ran', seconds: 2 } } })
    });
    expect(attached).toMatchObject({ phase: 'running', id: 'r9' });
    const finished = runReducer(IDLE_RUN, {
      type: 'attach',
      status: status({ id: 'r9', status: 'succeeded' })
    });
    expect(finished.phase).toBe('succeeded');
    expect(runReducer(attached, { type: 'attach', status: status({ id: 'x' }) })).toBe(attached);
  });

  it('summarizes progress while running', () => {
    const running = play(
      { type: 'start', steps: ['a', 'b', 'c'] },
      { type: 'started', id: 'r1' },
      {
        type: 'status',
        status: status({
          steps: {
            a: { state: 'cached', seconds: 0 },
            b: { state: 'ran', seconds: 1 }
          }
        })
      }
    );
    expect(runSummary(running)).toBe('running: 2 of 3 steps done');
    expect(runSummary(IDLE_RUN)).toBe('');
  });
});
