/**
 * Text the panel shows: durations, step states, MLflow UI links. Pure (the parameters
 * form's texts are in paramForm.ts).
 */

import { StepState } from './types';

/** "850 ms", "4.72 s", "1 min 05 s", "2 h 03 min". */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) {
    return '';
  }
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)} ms`;
  }
  if (seconds < 60) {
    return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  }
  const whole = Math.round(seconds);
  if (whole < 3600) {
    return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  }
  const minutes = Math.floor(whole / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

const STATE_LABELS: Record<StepState, string> = {
  waiting: 'waiting',
  running: 'running',
  ran: 'done',
  cached: 'cached',
  failed: 'failed',
  not_run: 'not run',
  cancelled: 'cancelled'
};

/** The word shown for a step state ("ran" reads "done", as in the terminal). */
export function stateLabel(state: StepState): string {
  return STATE_LABELS[state] ?? state;
}

/** `<ui>/#/experiments/<id>/runs/<run>` when an MLflow UI URL is set, else null. */
export function mlflowRunUrl(
  base: string,
  experimentId: string | null,
  runId: string
): string | null {
  if (!base || !experimentId) {
    return null;
  }
  return `${base.replace(/\/+$/, '')}/#/experiments/${experimentId}/runs/${runId}`;
}
