/**
 * Recent runs (recorded in MLflow): each with its status (and a failed run's reason),
 * when and where it was started, its duration, parameters (those not at their default
 * marked "changed"), metrics, registered version, gate, and its deltas against the
 * champion and challenger; "Re-run with these parameters"; two runs ticked open a
 * side-by-side comparison.
 */

import * as React from 'react';

import { compareWithAliases, runSeconds, toggleSelection } from '../core/compare';
import { sourceLabel } from '../core/liveText';
import { formatDateTime, formatSeconds, fullDateTime } from '../core/format';
import { IRecentRun } from '../core/recentRuns';
import { IModelsJSON, IPipelineJSON, IRunRecord } from '../core/types';
import { AliasDeltas, CompareView } from './compareView';
import { HistoryList } from './historyList';
import { Metrics, Params } from './recordedValues';

const STATUS_ICONS: Record<string, string> = {
  succeeded: '✓',
  failed: '✗',
  running: '▶',
  cancelled: '⊘',
  killed: '⊘'
};

function statusOf(run: IRunRecord): string {
  return run.mlops_status ?? run.status.toLowerCase();
}

function RunHead(props: {
  run: IRecentRun;
  selected: boolean;
  runLink: (id: string) => React.ReactNode;
  onToggle: () => void;
}) {
  const { run } = props;
  const status = statusOf(run);
  const seconds = run.seconds ?? runSeconds(run.start, run.end);
  const source = sourceLabel(run.started_from ?? null);
  return (
    <div className="jp-mlops-RunHead">
      <input
        type="checkbox"
        data-testid="mlops-run-select"
        checked={props.selected}
        onChange={props.onToggle}
        aria-label={`Compare run ${run.id.slice(0, 8)}`}
        title="Tick two runs to compare them"
      />
      <span className="jp-mlops-HistoryStatus" data-status={status}>
        {STATUS_ICONS[status] ?? ''} {status}
      </span>
      {props.runLink(run.id)}
      <span
        className="jp-mlops-ModelDate"
        data-testid="mlops-run-date"
        title={fullDateTime(run.start)}
      >
        {formatDateTime(run.start)}
      </span>
      {seconds !== null && <span data-testid="mlops-run-duration">{formatSeconds(seconds)}</span>}
      {source && (
        <span className="jp-mlops-RunSource" data-testid="mlops-run-source" data-source={source}>
          from {source}
        </span>
      )}
    </div>
  );
}

function RunRow(props: {
  run: IRecentRun;
  pipeline: IPipelineJSON | null;
  models: IModelsJSON[] | null;
  selected: boolean;
  canRerun: boolean;
  runLink: (id: string) => React.ReactNode;
  onToggle: () => void;
  onRerun: (params: Record<string, string>) => void;
}) {
  const { run } = props;
  const failed = statusOf(run) === 'failed';
  return (
    <>
      <RunHead {...props} />
      {failed && (
        <div className="jp-mlops-RunError" data-testid="mlops-run-error">
          failed: {run.error ?? 'no reason recorded (see the run in MLflow)'}
        </div>
      )}
      <div className="jp-mlops-RunOutcome">
        {run.allCached && (
          <span data-testid="mlops-run-cached">
            every step cached: the results of run {run.id.slice(0, 12)}, nothing new recorded
          </span>
        )}
        {run.model_version && (
          <span data-testid="mlops-run-version">registered v{run.model_version}</span>
        )}
        {run.gate && (
          <span className="jp-mlops-Gate" data-gate={run.gate}>
            {' '}
            · gate {run.gate}
          </span>
        )}
      </div>
      <Params params={run.params} pipeline={props.pipeline} />
      <Metrics metrics={run.metrics} />
      <AliasDeltas comparisons={compareWithAliases(run, props.models)} />
      <button
        className="jp-mlops-LinkButton"
        data-testid="mlops-run-rerun"
        disabled={!props.canRerun}
        title={
          props.canRerun
            ? 'Set the parameters form to these values and run'
            : 'A run is going on, or the pipeline cannot run now'
        }
        onClick={() => props.onRerun(run.params)}
      >
        Re-run with these parameters
      </button>
    </>
  );
}

export interface IRunsViewProps {
  /** Newest first (see core/recentRuns.ts). */
  runs: readonly IRecentRun[];
  pipeline: IPipelineJSON | null;
  models: IModelsJSON[] | null;
  /** False while a run goes on or the pipeline cannot run. */
  canRerun: boolean;
  runLink: (id: string) => React.ReactNode;
  onRerun: (params: Record<string, string>) => void;
}

/** The two ticked runs, older first (the list is newest first). */
function selectedPair(
  runs: readonly IRecentRun[],
  selected: readonly string[]
): [IRecentRun, IRecentRun] | null {
  const picked = runs.filter(r => selected.includes(r.key));
  return picked.length === 2 ? [picked[1], picked[0]] : null;
}

export function RunsView(props: IRunsViewProps): JSX.Element | null {
  const { runs } = props;
  const [selected, setSelected] = React.useState<string[]>([]);
  if (!runs.length) {
    return null;
  }
  const pair = selectedPair(runs, selected);
  return (
    <section className="jp-mlops-Section" data-testid="mlops-history" aria-label="Recent runs">
      <HistoryList
        title="Recent runs"
        items={runs}
        rowTestId="mlops-history-run"
        rowKey={run => run.key}
        rowData={run => ({
          'data-status': statusOf(run),
          'data-run-id': run.id,
          'data-source': run.started_from ?? ''
        })}
        row={run => (
          <RunRow
            run={run}
            pipeline={props.pipeline}
            models={props.models}
            selected={selected.includes(run.key)}
            canRerun={props.canRerun}
            runLink={props.runLink}
            onToggle={() => setSelected(toggleSelection(selected, run.key))}
            onRerun={props.onRerun}
          />
        )}
      />
      {pair && <CompareView runs={pair} onClose={() => setSelected([])} />}
      {selected.length === 1 && (
        <div className="jp-mlops-Hint" data-testid="mlops-compare-hint" role="status">
          Tick one more run to compare the two side by side.
        </div>
      )}
    </section>
  );
}
