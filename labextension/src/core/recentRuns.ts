/**
 * The list Recent runs shows: every run of the pipeline, wherever it was started, from
 * its live record (a cancelled run, or one whose steps were all cached and so reused an
 * earlier MLflow run, is listed too), and the older runs only MLflow still holds. Newest
 * first. Pure.
 */

import { formatParamValue, paramType } from './paramForm';
import { ILiveRunJSON, IPipelineJSON, IRunHistory, IRunRecord } from './types';

/** One row of Recent runs: a recorded run, with a key of its own. */
export interface IRecentRun extends IRunRecord {
  /** Unique in the list: the live record's id, else the MLflow run id. */
  key: string;
  /** How long it ran, when its live record says (else from start and end). */
  seconds?: number | null;
  /** Every step came from the cache: nothing new was recorded, `id` is the earlier run. */
  allCached?: boolean;
}

/** A finished run whose every step came from the cache. */
function allCached(run: ILiveRunJSON): boolean {
  const states = Object.values(run.steps).map(step => step.state);
  return run.status === 'succeeded' && states.length > 0 && states.every(s => s === 'cached');
}

/** A run's parameter values as MLflow records them (Python literals), typed as the pipeline. */
export function paramTexts(
  values: Record<string, unknown>,
  pipeline: Pick<IPipelineJSON, 'params' | 'param_types'> | null
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => {
      const fallback = pipeline?.params?.[name];
      const type = paramType(
        fallback === undefined ? value : fallback,
        pipeline?.param_types?.[name]
      );
      return [name, formatParamValue(value, type)];
    })
  );
}

/** A live record as a row; what only its MLflow run holds (metrics, a gate) filled in. */
function liveRow(
  run: ILiveRunJSON,
  recorded: IRunRecord | undefined,
  pipeline: Pick<IPipelineJSON, 'params' | 'param_types'> | null
): IRecentRun {
  const metrics = Object.keys(run.metrics).length ? run.metrics : (recorded?.metrics ?? {});
  return {
    key: run.id,
    seconds: run.status === 'running' ? null : run.elapsed,
    allCached: allCached(run),
    id: run.run_id ?? run.id,
    name: recorded?.name ?? null,
    start: run.started ?? recorded?.start ?? null,
    end: run.ended ?? (run.status === 'running' ? null : (recorded?.end ?? null)),
    status: run.status,
    mlops_status: run.status,
    model_version: run.model_version,
    gate: run.gate?.outcome ?? (run.model_version ? (recorded?.gate ?? null) : null),
    metrics,
    params: run.params ? paramTexts(run.params, pipeline) : (recorded?.params ?? {}),
    started_from: run.source ?? recorded?.started_from ?? null,
    error: run.error ?? recorded?.error ?? null
  };
}

function timeOf(iso: string | null | undefined): number {
  const time = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(time) ? time : 0;
}

/** The live record is the run MLflow recorded, not a later one whose steps were all
 * cached and so named that earlier MLflow run. */
function sameRun(run: ILiveRunJSON, recorded: IRunRecord): boolean {
  return !run.started || !recorded.end || timeOf(run.started) <= timeOf(recorded.end);
}

/**
 * Live records first-hand, then the MLflow runs no live record stands for; newest first.
 * A live record whose MLflow run is listed takes the metrics (and, for the run that
 * registered the version, the gate) from it.
 */
export function recentRuns(
  history: IRunHistory | null,
  live: readonly ILiveRunJSON[],
  pipeline: Pick<IPipelineJSON, 'params' | 'param_types'> | null
): IRecentRun[] {
  const recorded = new Map((history?.runs ?? []).map(run => [run.id, run]));
  const fromLive = live.map(run => liveRow(run, recorded.get(run.run_id ?? ''), pipeline));
  const shown = new Set(
    live
      .filter(run => run.run_id !== null && recorded.has(run.run_id))
      .filter(run => sameRun(run, recorded.get(run.run_id!)!))
      .map(run => run.run_id)
  );
  const onlyRecorded = (history?.runs ?? [])
    .filter(run => !shown.has(run.id))
    .map(run => ({ ...run, key: run.id }));
  return [...fromLive, ...onlyRecorded].sort((a, b) => timeOf(b.start) - timeOf(a.start));
}
