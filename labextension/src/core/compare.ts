/**
 * Comparing runs and versions without the DOM: the parameters two runs differ in, their
 * metric deltas with which one is better (lower for losses and errors, else higher), a
 * run against the champion's and challenger's metrics, a run's parameters against the
 * pipeline's defaults, and the form texts that re-run it.
 */

import { paramFields } from './paramForm';
import { IModelsJSON, IPipelineJSON, IRunRecord } from './types';

/** Which way a metric improves. */
export type Direction = 'lower' | 'higher';

/** How the second value compares with the first. */
export type Verdict = 'better' | 'worse' | 'same';

const LOWER_IS_BETTER = /(loss|error|rmse|mse|mae|mape)/i;

/** Lower for losses and errors (loss, error, rmse, mse, mae, mape), else higher. */
export function metricDirection(name: string): Direction {
  return LOWER_IS_BETTER.test(name) ? 'lower' : 'higher';
}

/** One parameter of two runs. */
export interface IParamDiff {
  name: string;
  a: string | null;
  b: string | null;
  differs: boolean;
}

/** One metric of two runs: `delta` is b − a; `verdict` says how b compares with a. */
export interface IMetricDelta {
  name: string;
  a: number | null;
  b: number | null;
  delta: number | null;
  direction: Direction;
  verdict: Verdict | null;
}

function sortedNames(...records: Record<string, unknown>[]): string[] {
  return [...new Set(records.flatMap(r => Object.keys(r)))].sort();
}

/** Every parameter of either run, by name; `differs` when their values are not the same. */
export function compareParams(a: Record<string, string>, b: Record<string, string>): IParamDiff[] {
  return sortedNames(a, b).map(name => {
    const first = a[name] ?? null;
    const second = b[name] ?? null;
    return { name, a: first, b: second, differs: first !== second };
  });
}

/** The verdict on `delta` (b − a) for a metric going `direction`. */
export function verdictOf(delta: number, direction: Direction): Verdict {
  if (delta === 0) {
    return 'same';
  }
  return delta < 0 === (direction === 'lower') ? 'better' : 'worse';
}

/** Every metric of either run, by name, with b − a and how b compares with a. */
export function compareMetrics(
  a: Record<string, number>,
  b: Record<string, number>
): IMetricDelta[] {
  return sortedNames(a, b).map(name => {
    const first = a[name] ?? null;
    const second = b[name] ?? null;
    const direction = metricDirection(name);
    const delta = first !== null && second !== null ? second - first : null;
    const verdict = delta === null ? null : verdictOf(delta, direction);
    return { name, a: first, b: second, delta, direction, verdict };
  });
}

/** A run's metrics against the version an alias points to. */
export interface IAliasComparison {
  /** The first alias of the version compared with. */
  alias: string;
  /** Every one of the asked aliases that version holds (e.g. champion and challenger). */
  aliases: string[];
  model: string;
  version: string;
  /** The metrics both have: a = the alias's version, b = the run. */
  deltas: IMetricDelta[];
}

/**
 * The run's metrics against each of `aliases` (champion, challenger) of every model that
 * has it: the metrics they both have, b − a where a is the alias's version. A run that
 * registered that very version gets no comparison for it (nothing to compare); a version
 * holding both aliases is compared once.
 */
export function compareWithAliases(
  run: Pick<IRunRecord, 'metrics' | 'model_version'>,
  models: readonly IModelsJSON[] | null,
  aliases: readonly string[] = ['champion', 'challenger']
): IAliasComparison[] {
  const found: IAliasComparison[] = [];
  for (const alias of aliases) {
    for (const model of models ?? []) {
      const version = model.versions.find(v => v.aliases.includes(alias));
      if (!version || version.version === run.model_version) {
        continue;
      }
      const same = found.find(c => c.model === model.name && c.version === version.version);
      if (same) {
        same.aliases.push(alias);
        continue;
      }
      const deltas = compareMetrics(version.metrics, run.metrics).filter(d => d.delta !== null);
      if (deltas.length) {
        found.push({
          alias,
          aliases: [alias],
          model: model.name,
          version: version.version,
          deltas
        });
      }
    }
  }
  return found;
}

/** "+0.0123", "−2", "0": the sign always shown, four significant digits. */
export function formatDelta(delta: number): string {
  if (delta === 0) {
    return '0';
  }
  const size = Math.abs(delta);
  const digits = Number.isInteger(size) ? String(size) : String(Number(size.toPrecision(4)));
  return `${delta > 0 ? '+' : '−'}${digits}`;
}

/** A metric value as the panel shows it (integers whole, else four significant digits). */
export function formatMetric(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

/** One parameter of a recorded run, marked when it is not the pipeline's default. */
export interface IRunParam {
  name: string;
  text: string;
  changed: boolean;
}

/**
 * The run's parameters (as MLflow recorded them: Python literals) in the pipeline's order,
 * each marked when its value differs from the default; those the pipeline no longer has
 * come last, unmarked.
 */
export function recordedParams(
  params: Record<string, string>,
  pipeline: Pick<IPipelineJSON, 'params' | 'param_types'> | null
): IRunParam[] {
  const fields = paramFields(pipeline, pickKnown(params, pipeline));
  const known = fields
    .filter(f => f.name in params)
    .map(f => ({ name: f.name, text: params[f.name], changed: f.changed }));
  const names = new Set(known.map(p => p.name));
  const others = Object.keys(params)
    .filter(name => !names.has(name))
    .sort()
    .map(name => ({ name, text: params[name], changed: false }));
  return [...known, ...others];
}

function pickKnown(
  params: Record<string, string>,
  pipeline: Pick<IPipelineJSON, 'params'> | null
): Record<string, string> {
  const defaults = pipeline?.params ?? {};
  return Object.fromEntries(Object.entries(params).filter(([name]) => name in defaults));
}

/**
 * The form texts that re-run a recorded run: its value for each parameter the pipeline
 * has, as the field shows it (a value equal to the default is left out: no edit).
 */
export function rerunTexts(
  params: Record<string, string>,
  pipeline: Pick<IPipelineJSON, 'params' | 'param_types'> | null
): Record<string, string> {
  const fields = paramFields(pipeline, pickKnown(params, pipeline));
  return Object.fromEntries(
    fields.filter(f => f.name in params && f.changed).map(f => [f.name, params[f.name]])
  );
}

/** Seconds between two ISO times, or null when either is missing or unreadable. */
export function runSeconds(start: string | null, end: string | null): number | null {
  const from = start ? Date.parse(start) : NaN;
  const to = end ? Date.parse(end) : NaN;
  return Number.isFinite(from) && Number.isFinite(to) && to >= from ? (to - from) / 1000 : null;
}

/** "<model> · step <step>" (the model alone when its step is unknown). */
export function modelLabel(model: string, step: string | null | undefined): string {
  return step ? `${model} · step ${step}` : model;
}

/** The run ids kept selected after `id` was toggled: at most two, the newest kept. */
export function toggleSelection(selected: readonly string[], id: string): string[] {
  if (selected.includes(id)) {
    return selected.filter(s => s !== id);
  }
  return [...selected, id].slice(-2);
}
