/**
 * The words of the live runs outside the panel: the notification when a run ends, the
 * status-bar item while runs go on, where a run was started. Pure.
 */

import { formatSeconds } from './format';
import { ILiveRunJSON, IStepStatus } from './types';

/** JupyterLab truncates notification messages longer than this. */
export const NOTICE_MAX_CHARS = 140;

/** The words of the Recent runs list (core/compare.ts), so a source reads the same everywhere. */
const SOURCES: Record<string, string> = {
  panel: 'panel',
  widget: 'widget',
  cli: 'CLI',
  ci: 'CI',
  trigger: 'trigger'
};

/** "CLI", "CI", "panel"… (null when the server did not say). */
export function sourceLabel(source: string | null | undefined): string | null {
  if (!source) {
    return null;
  }
  return SOURCES[source] ?? source;
}

/** A number as the notification shows it: 3 significant digits, integers as they are. */
function shortNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}

/** "accuracy 0.958, f1 0.967, roc_auc 0.994" (the first `max` metrics, by name). */
export function metricsSummary(metrics: Record<string, number>, max = 3): string {
  const names = Object.keys(metrics).sort();
  const shown = names.slice(0, max).map(name => `${name} ${shortNumber(metrics[name])}`);
  const more = names.length > max ? ` (+${names.length - max} more)` : '';
  return shown.join(', ') + more;
}

function clip(message: string, max = NOTICE_MAX_CHARS): string {
  return message.length <= max ? message : message.slice(0, max - 1) + '…';
}

/**
 * The notification of a run that ended: the pipeline, how it ended, after how long, where
 * it was started; the metrics of a success, the failed step and the error of a failure.
 */
export function runEndMessage(run: ILiveRunJSON): string {
  const from = sourceLabel(run.source);
  const origin = from ? ` (from ${from})` : '';
  const after = formatSeconds(run.elapsed);
  switch (run.status) {
    case 'succeeded': {
      const metrics = metricsSummary(run.metrics);
      const version = run.model_version ? `, model version ${run.model_version}` : '';
      return clip(
        `${run.pipeline} succeeded in ${after}${origin}${version}${metrics ? `: ${metrics}` : ''}`
      );
    }
    case 'failed': {
      const step = run.failed_step ? ` at step ${run.failed_step}` : '';
      const error = run.error ? `: ${run.error}` : '';
      return clip(`${run.pipeline} failed${step} after ${after}${origin}${error}`);
    }
    case 'cancelled':
      return clip(`${run.pipeline} cancelled after ${after}${origin}`);
    case 'running':
      return clip(`${run.pipeline} running${origin}`);
  }
}

/** Steps done (ran or cached) and the steps of the run. */
export function stepProgress(steps: Record<string, IStepStatus>): { done: number; total: number } {
  const all = Object.values(steps);
  const done = all.filter(s => s.state === 'ran' || s.state === 'cached').length;
  return { done, total: all.length };
}

/** The status-bar item: "mlops: classification ▶ 3/5 steps" ("… (+1 more)" when several). */
export function statusItemText(running: readonly ILiveRunJSON[]): string {
  const first = running[0];
  if (!first) {
    return '';
  }
  const { done, total } = stepProgress(first.steps);
  const what = first.recording ? 'recording' : `${done}/${total} steps`;
  const more = running.length > 1 ? ` (+${running.length - 1} more)` : '';
  return `mlops: ${first.pipeline} ▶ ${what}${more}`;
}

/** The status-bar item's tooltip: every run going on, with where it was started. */
export function statusItemTitle(running: readonly ILiveRunJSON[]): string {
  const lines = running.map(run => {
    const { done, total } = stepProgress(run.steps);
    const from = sourceLabel(run.source);
    return `${run.pipeline}: ${done} of ${total} steps done${from ? `, started from ${from}` : ''}`;
  });
  return [...lines, 'Click to open the MLOps panel'].join('\n');
}

const ANSI = new RegExp(String.fromCharCode(27) + '\\[[0-9;?]*[A-Za-z]', 'g');

/** A traceback without its terminal colour codes. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
