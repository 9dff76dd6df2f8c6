/**
 * What each step cell of a notebook shows from the live runs: the step's name, its state in
 * the latest run that had it (icon and word, as in the panel) and its duration; the failed
 * step of the latest run also shows that run's traceback. Pure.
 */

import { formatSeconds } from './format';
import { stripAnsi } from './liveText';
import { currentRun } from './liveRuns';
import { stepsInSources } from './pipeline';
import { IStepLook, stepLook } from './stepStates';
import { ILiveRunJSON } from './types';

export interface IStepBadge {
  step: string;
  look: IStepLook;
  /** '' when the state has no duration (waiting, cached, not run, no run yet). */
  duration: string;
  /** The badge as one line of text (its accessible label). */
  label: string;
}

export interface IStepTraceback {
  step: string;
  /** The run that failed (to forget a traceback the user closed). */
  runId: string;
  /** The run's one-line error. */
  error: string;
  text: string;
}

const TIMED = new Set(['ran', 'failed', 'running']);

/** The badge of `step`: its state in the newest run that had it. */
export function stepBadge(step: string, runs: readonly ILiveRunJSON[]): IStepBadge {
  const status = runs.find(run => run.steps[step])?.steps[step];
  const look = stepLook(status?.state);
  const duration = status && TIMED.has(status.state) ? formatSeconds(status.seconds) : '';
  const label = ['step', step, look.label, duration].filter(Boolean).join(' ');
  return { step, look, duration, label };
}

/** Badges per 1-based cell number of the `%%mlstep` cells (`sources`: '' for non-code cells). */
export function cellBadges(
  sources: readonly string[],
  runs: readonly ILiveRunJSON[]
): Map<number, IStepBadge> {
  const badges = new Map<number, IStepBadge>();
  for (const { name, cell } of stepsInSources([...sources])) {
    badges.set(cell, stepBadge(name, runs));
  }
  return badges;
}

/** The traceback of the current run's failed step, when it failed with one. */
export function failedTraceback(runs: readonly ILiveRunJSON[]): IStepTraceback | null {
  const run = currentRun(runs);
  if (!run || run.status !== 'failed' || !run.failed_step) {
    return null;
  }
  const text = stripAnsi(run.traceback ?? run.error ?? '').trim();
  return {
    step: run.failed_step,
    runId: run.id,
    error: run.error ?? `step ${run.failed_step} failed`,
    text
  };
}

/** The 1-based cell number of step `step`'s `%%mlstep` cell (null when no cell has it). */
export function stepCell(sources: readonly string[], step: string): number | null {
  return stepsInSources([...sources]).find(s => s.name === step)?.cell ?? null;
}
