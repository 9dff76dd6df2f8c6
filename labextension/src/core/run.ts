/**
 * The life of a run started from the panel, as a reducer: idle -> starting -> running ->
 * succeeded | failed | cancelled, with cancelling in between and error when a request
 * fails. Pure: the panel model feeds it events and renders the state it returns.
 */

import { IGateOutcome, IRunStatusJSON, IStepStatus, StepState } from './types';

export type RunPhase =
  'idle' | 'starting' | 'running' | 'cancelling' | 'succeeded' | 'failed' | 'cancelled' | 'error';

export interface IRunState {
  phase: RunPhase;
  /** The server's handle of the run (`POST run` reply). */
  id: string | null;
  steps: Record<string, IStepStatus>;
  elapsed: number;
  log: string[];
  runId: string | null;
  modelVersion: string | null;
  metrics: Record<string, number>;
  /** Steps done, the run is being recorded in MLflow. */
  recording: boolean;
  gate: IGateOutcome | null;
  /** Why the run failed or could not start. */
  message: string | null;
  /** Every parameter's value in the run, once the server said (null before). */
  params: Record<string, unknown> | null;
  /** Where the run was started (panel, widget, cli, ci, trigger); null: not said. */
  source: string | null;
}

export type RunEvent =
  | { type: 'start'; steps: string[] }
  | { type: 'started'; id: string }
  | { type: 'attach'; status: IRunStatusJSON }
  | { type: 'status'; status: IRunStatusJSON }
  | { type: 'cancel' }
  | { type: 'error'; message: string }
  | { type: 'reset' };

export const IDLE_RUN: IRunState = {
  phase: 'idle',
  id: null,
  steps: {},
  elapsed: 0,
  log: [],
  runId: null,
  modelVersion: null,
  metrics: {},
  recording: false,
  gate: null,
  message: null,
  params: null,
  source: null
};

const ACTIVE: ReadonlySet<RunPhase> = new Set(['starting', 'running', 'cancelling']);
const UNFINISHED: ReadonlySet<StepState> = new Set(['waiting', 'running']);

/** True while a run is starting, running or being cancelled. */
export function isRunActive(state: IRunState): boolean {
  return ACTIVE.has(state.phase);
}

/** Steps still waiting or running when a run ended are shown as cancelled / not run. */
function settleSteps(
  steps: Record<string, IStepStatus>,
  phase: RunPhase
): Record<string, IStepStatus> {
  const settled: Record<string, IStepStatus> = {};
  for (const [name, step] of Object.entries(steps)) {
    settled[name] = UNFINISHED.has(step.state)
      ? { ...step, state: phase === 'cancelled' ? 'cancelled' : 'not_run' }
      : step;
  }
  return settled;
}

function applyStatus(state: IRunState, status: IRunStatusJSON): IRunState {
  const steps = { ...state.steps, ...status.steps };
  const finished = status.status !== 'running';
  const phase: RunPhase = finished
    ? status.status
    : state.phase === 'cancelling'
      ? 'cancelling'
      : 'running';
  return {
    ...state,
    phase,
    steps: finished ? settleSteps(steps, phase) : steps,
    elapsed: status.elapsed,
    log: status.log,
    runId: status.run_id ?? state.runId,
    modelVersion: status.model_version ?? state.modelVersion,
    metrics: Object.keys(status.metrics).length ? status.metrics : state.metrics,
    recording: !finished && status.recording,
    gate: status.gate ?? state.gate,
    params: status.params ?? state.params,
    source: status.source ?? state.source,
    message: status.error ?? (phase === 'cancelled' ? 'cancelled' : null)
  };
}

/** The next state; events that make no sense in the current phase leave it unchanged. */
export function runReducer(state: IRunState, event: RunEvent): IRunState {
  switch (event.type) {
    case 'start':
      if (isRunActive(state)) {
        return state;
      }
      return {
        ...IDLE_RUN,
        phase: 'starting',
        steps: Object.fromEntries(event.steps.map(s => [s, { state: 'waiting', seconds: 0 }]))
      };
    case 'started':
      if (state.phase !== 'starting' && state.phase !== 'cancelling') {
        return state;
      }
      if (state.id !== null) {
        return state;
      }
      return {
        ...state,
        id: event.id,
        phase: state.phase === 'starting' ? 'running' : 'cancelling'
      };
    case 'attach': {
      if (isRunActive(state)) {
        return state;
      }
      const base: IRunState = {
        ...IDLE_RUN,
        phase: 'running',
        id: event.status.id
      };
      return applyStatus(base, event.status);
    }
    case 'status':
      if (!isRunActive(state) || state.id !== event.status.id) {
        return state;
      }
      return applyStatus(state, event.status);
    case 'cancel':
      if (state.phase !== 'starting' && state.phase !== 'running') {
        return state;
      }
      return { ...state, phase: 'cancelling' };
    case 'error':
      if (!isRunActive(state)) {
        return state;
      }
      return {
        ...state,
        phase: 'error',
        steps: settleSteps(state.steps, 'error'),
        message: event.message
      };
    case 'reset':
      return isRunActive(state) ? state : IDLE_RUN;
  }
}

/** A one-line summary of the run for the status line. */
export function runSummary(state: IRunState): string {
  const counts: Partial<Record<StepState, number>> = {};
  for (const step of Object.values(state.steps)) {
    counts[step.state] = (counts[step.state] ?? 0) + 1;
  }
  const total = Object.keys(state.steps).length;
  const done = (counts.ran ?? 0) + (counts.cached ?? 0);
  switch (state.phase) {
    case 'idle':
      return '';
    case 'starting':
      return 'starting…';
    case 'running':
      return state.recording ? 'recording in MLflow…' : `running: ${done} of ${total} steps done`;
    case 'cancelling':
      return 'cancelling…';
    case 'succeeded': {
      const parts = [`${counts.ran ?? 0} ran`, `${counts.cached ?? 0} cached`];
      return `succeeded: ${parts.join(', ')}`;
    }
    case 'failed':
      return `failed: ${state.message ?? 'a step failed'}`;
    case 'cancelled':
      return `cancelled: ${done} of ${total} steps done${done ? ' (cached for the next run)' : ''}`;
    case 'error':
      return `error: ${state.message ?? 'unknown'}`;
  }
}
