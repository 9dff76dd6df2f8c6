/**
 * The Monitoring section's reply (`GET monitoring?path=`, see
 * `jupyter_mlops/server/monitoring.py`) checked into the shapes of `types.ts`, the texts
 * the section shows and the geometry of its sparklines. Pure functions.
 */

import { isRecord, ProtocolError } from './replies';
import {
  IColumnDriftJSON,
  IModelMonitoringJSON,
  IMonitoringJSON,
  IMonitoringWindowJSON,
  ITrendPointJSON,
  ITriggerStateJSON
} from './types';

/** The page of the docs (docs/ in the repository) that explains monitoring. */
export const MONITOR_DOCS = 'docs/monitoring.md';

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function bool(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

function items(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function numbers(value: unknown): Record<string, number> {
  const found: Record<string, number> = {};
  for (const [key, item] of Object.entries(isRecord(value) ? value : {})) {
    const n = num(item);
    if (n !== null) {
      found[key] = n;
    }
  }
  return found;
}

function parseColumn(value: Record<string, unknown>): IColumnDriftJSON {
  return {
    column: text(value.column) ?? '?',
    test: text(value.test),
    statistic: num(value.statistic),
    drifted: value.drifted === true
  };
}

function parseWindow(value: unknown): IMonitoringWindowJSON | null {
  if (!isRecord(value)) {
    return null;
  }
  const drift = isRecord(value.drift) ? value.drift : {};
  const prediction = isRecord(value.prediction_drift) ? value.prediction_drift : null;
  const performance = isRecord(value.performance) ? value.performance : null;
  return {
    start: text(value.start) ?? '',
    end: text(value.end) ?? '',
    rows: num(value.rows),
    versions: isRecord(value.versions) ? numbers(value.versions) : null,
    driftShare: num(drift.share),
    datasetDrifted: bool(drift.dataset_drifted),
    columns: items(drift.columns).map(parseColumn),
    predictionDrift: prediction && {
      statistic: num(prediction.statistic),
      drifted: bool(prediction.drifted)
    },
    performance: performance && {
      metrics: numbers(performance.metrics),
      estimated: performance.estimated === true
    },
    report: value.report === true
  };
}

function parsePoint(value: Record<string, unknown>): ITrendPointJSON | null {
  const measured = num(value.value);
  return measured === null
    ? null
    : { start: text(value.start) ?? '', value: measured, estimated: value.estimated === true };
}

function parseTrend(value: unknown): Record<string, ITrendPointJSON[]> {
  const trend: Record<string, ITrendPointJSON[]> = {};
  for (const [metric, points] of Object.entries(isRecord(value) ? value : {})) {
    const parsed = items(points)
      .map(parsePoint)
      .filter((p): p is ITrendPointJSON => p !== null);
    if (parsed.length) {
      trend[metric] = parsed;
    }
  }
  return trend;
}

function parseModel(value: Record<string, unknown>): IModelMonitoringJSON {
  const trend = isRecord(value.trend) ? value.trend : {};
  return {
    name: text(value.name) ?? '?',
    step: text(value.step) ?? '',
    experiment: text(value.experiment) ?? '',
    monitored: value.monitored === true,
    hint: text(value.hint),
    problem: text(value.problem),
    latest: parseWindow(value.latest),
    trendWindows: num(trend.windows) ?? 0,
    trend: parseTrend(trend.metrics)
  };
}

function parseTrigger(value: Record<string, unknown>): ITriggerStateJSON {
  const run = isRecord(value.last_run) ? value.last_run : {};
  return {
    name: text(value.name) ?? '?',
    kind: text(value.kind) ?? '',
    settings: text(value.settings) ?? '',
    deploy: text(value.deploy),
    lastEvaluated: text(value.last_evaluated),
    lastFired: text(value.last_fired),
    reason: text(value.reason),
    runStatus: text(run.status),
    cooldownRemainingSeconds: Math.max(0, num(value.cooldown_remaining_seconds) ?? 0)
  };
}

/** `GET monitoring?path=`. */
export function parseMonitoring(value: unknown): IMonitoringJSON {
  if (!isRecord(value) || !Array.isArray(value.models)) {
    throw new ProtocolError('the monitoring reply has no models');
  }
  return {
    pipeline: text(value.pipeline),
    problem: text(value.problem),
    models: items(value.models).map(parseModel),
    triggers: items(value.triggers).map(parseTrigger),
    triggersProblem: text(value.triggers_problem)
  };
}

/** A statistic or metric with 3 significant digits ("0.123", "12.3"); "–" for none. */
export function formatNumber(value: number | null): string {
  if (value === null) {
    return '–';
  }
  if (Number.isInteger(value)) {
    return String(value);
  }
  const shown = value.toPrecision(3);
  return shown.includes('e') ? shown : shown.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** "drifted" / "stable": what the drift icon says in words. */
export function driftWord(drifted: boolean | null): string {
  return drifted === null ? 'not measured' : drifted ? 'drifted' : 'stable';
}

/** The window's one-line summary: "300 rows · v1 180, v2 120 · 1 of 2 features drifted". */
export function windowSummary(window: IMonitoringWindowJSON): string {
  const parts: string[] = [];
  if (window.rows !== null) {
    parts.push(`${window.rows} rows`);
  }
  const versions = Object.entries(window.versions ?? {});
  if (versions.length) {
    parts.push(versions.map(([version, rows]) => `v${version} ${rows}`).join(', '));
  }
  if (window.columns.length) {
    const drifted = window.columns.filter(c => c.drifted).length;
    parts.push(`${drifted} of ${window.columns.length} features drifted`);
  }
  return parts.join(' · ');
}

/** "share 0.5 of the features" (null when the window has no dataset drift figure). */
export function datasetDriftText(window: IMonitoringWindowJSON): string | null {
  if (window.datasetDrifted === null) {
    return null;
  }
  return window.driftShare === null
    ? null
    : `share ${formatNumber(window.driftShare)} of the features`;
}

/** A duration in seconds for people: "45 s", "12 min", "3 h 5 min", "2 d". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) {
    return `${s} s`;
  }
  if (s < 3600) {
    return `${Math.round(s / 60)} min`;
  }
  if (s < 86400) {
    const minutes = Math.round((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${minutes ? ` ${minutes} min` : ''}`;
  }
  return `${Math.round(s / 86400)} d`;
}

/** The trigger's state in words: "never fired" or "cool-down 50 min left". */
export function cooldownText(trigger: ITriggerStateJSON): string | null {
  if (trigger.cooldownRemainingSeconds <= 0) {
    return null;
  }
  return `cool-down ${formatDuration(trigger.cooldownRemainingSeconds)} left`;
}

/** A sparkline's points in a `width` × `height` box (with `pad` inside), oldest left. */
export interface ISparkPoint {
  x: number;
  y: number;
  value: number;
  estimated: boolean;
  start: string;
}

export function sparkline(
  points: readonly ITrendPointJSON[],
  width: number,
  height: number,
  pad = 3
): ISparkPoint[] {
  if (!points.length) {
    return [];
  }
  const values = points.map(p => p.value);
  const low = Math.min(...values);
  const high = Math.max(...values);
  const span = high - low;
  const step = points.length > 1 ? (width - 2 * pad) / (points.length - 1) : 0;
  return points.map((point, index) => ({
    x: points.length > 1 ? pad + index * step : width / 2,
    y: span > 0 ? pad + ((high - point.value) / span) * (height - 2 * pad) : height / 2,
    value: point.value,
    estimated: point.estimated,
    start: point.start
  }));
}

/** The `points` attribute of an SVG polyline through `points`. */
export function polylinePoints(points: readonly ISparkPoint[]): string {
  return points.map(p => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}

/** "accuracy: 0.95 → 0.8 (3 windows, 1 estimated)": what a sparkline shows, in words. */
export function trendText(metric: string, points: readonly ITrendPointJSON[]): string {
  if (!points.length) {
    return `${metric}: no values`;
  }
  const first = formatNumber(points[0].value);
  const last = formatNumber(points[points.length - 1].value);
  const estimated = points.filter(p => p.estimated).length;
  const windows = `${points.length} window${points.length === 1 ? '' : 's'}`;
  const range = points.length === 1 ? last : `${first} → ${last}`;
  return `${metric}: ${range} (${windows}${estimated ? `, ${estimated} estimated` : ''})`;
}
