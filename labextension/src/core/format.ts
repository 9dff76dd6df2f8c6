/**
 * Text the panel shows: durations, step states, parameter values; and the parameters
 * form's parsing (text typed by the user -> a value of the default's type). Pure.
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

/** A parameter default as Python would write it in the parameters cell. */
export function formatParamValue(value: unknown): string {
  if (value === null || value === undefined) {
    return 'None';
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number') {
    return String(value);
  }
  return JSON.stringify(value);
}

export type ParamKind = 'int' | 'float' | 'bool' | 'str' | 'json';

/** The kind of input a parameter's default calls for. */
export function paramKind(value: unknown): ParamKind {
  if (typeof value === 'boolean') {
    return 'bool';
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? 'int' : 'float';
  }
  if (typeof value === 'string') {
    return 'str';
  }
  return 'json';
}

export type ParsedParam = { value: unknown; error: null } | { value: null; error: string };

/** The value typed into the form for a parameter of `kind`, or why it is not one. */
export function parseParamText(text: string, kind: ParamKind): ParsedParam {
  const trimmed = text.trim();
  switch (kind) {
    case 'str':
      return { value: text, error: null };
    case 'bool':
      if (/^(true|false)$/i.test(trimmed)) {
        return { value: trimmed.toLowerCase() === 'true', error: null };
      }
      return { value: null, error: 'expected True or False' };
    case 'int':
    case 'float': {
      if (trimmed === '' || !Number.isFinite(Number(trimmed))) {
        return { value: null, error: 'expected a number' };
      }
      return { value: Number(trimmed), error: null };
    }
    case 'json': {
      if (trimmed === 'None') {
        return { value: null, error: null };
      }
      try {
        return { value: JSON.parse(trimmed), error: null };
      } catch {
        return { value: text, error: null };
      }
    }
  }
}

/**
 * The parameters to send with a run: the values that differ from the defaults (the run
 * uses the defaults for the rest), or the first field that cannot be parsed.
 */
export function paramOverrides(
  defaults: Record<string, unknown>,
  texts: Record<string, string>
): { params: Record<string, unknown>; error: null } | { params: null; error: string } {
  const params: Record<string, unknown> = {};
  for (const [name, fallback] of Object.entries(defaults)) {
    const text = texts[name];
    if (text === undefined || text === formatParamValue(fallback)) {
      continue;
    }
    const parsed = parseParamText(text, paramKind(fallback));
    if (parsed.error !== null) {
      return { params: null, error: `${name}: ${parsed.error}` };
    }
    if (JSON.stringify(parsed.value) !== JSON.stringify(fallback)) {
      params[name] = parsed.value;
    }
  }
  return { params, error: null };
}

/** The form's texts showing every parameter's default. */
export function defaultParamTexts(defaults: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(defaults).map(([name, value]) => [name, formatParamValue(value)])
  );
}

/**
 * The form's texts after the defaults changed from `before` to `after`: a text the user
 * edited stays, an untouched one shows the new default, removed parameters go.
 */
export function mergeParamTexts(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  texts: Record<string, string>
): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries(after)) {
    const current = texts[name];
    const untouched = current === undefined || current === formatParamValue(before[name]);
    merged[name] = untouched ? formatParamValue(value) : current;
  }
  return merged;
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
