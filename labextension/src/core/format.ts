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

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function asDate(value: string | number | Date | null | undefined): Date | null {
  if (value === null || value === undefined || value === '') {
    return null;
  }
  const date = value instanceof Date ? value : new Date(value);
  return Number.isFinite(date.getTime()) ? date : null;
}

/**
 * A time in local time as every list of the panel shows it: "2 Dec 21:15" (the year added
 * when it is not the current one: "2 Dec 2025 21:15"); '' for a missing or unreadable one.
 */
export function formatDateTime(
  value: string | number | Date | null | undefined,
  now: Date = new Date()
): string {
  const date = asDate(value);
  if (!date) {
    return '';
  }
  const year = date.getFullYear() === now.getFullYear() ? '' : ` ${date.getFullYear()}`;
  const time = `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
  return `${date.getDate()} ${MONTHS[date.getMonth()]}${year} ${time}`;
}

/** The full local date and time (seconds and time zone), for a title attribute. */
export function fullDateTime(value: string | number | Date | null | undefined): string {
  const date = asDate(value);
  return date ? date.toString() : '';
}
