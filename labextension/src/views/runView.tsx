/**
 * Extract / Run / Cancel buttons, the parameters form, the run's status line, its MLflow
 * run and log tail. Every element is always rendered (disabled or empty when it does not
 * apply) so a run's progress never shifts the layout.
 */

import * as React from 'react';

import { formatSeconds } from '../core/format';
import { IParamField, runBlocker } from '../core/paramForm';
import { IActionState } from '../core/state';
import { sourceLabel } from '../core/liveText';
import { IRunState, isRunActive, runSummary } from '../core/run';
import { ExtractMessage } from './extractView';
import { ParamFormView } from './paramFormView';

export interface IRunViewProps {
  /** The parameters form's fields (paramForm.ts). */
  paramFields: IParamField[];
  extract: IActionState;
  run: IRunState;
  canRun: boolean;
  /** Why it cannot (core/state.ts notRunnableReason), shown as "Run disabled: …". */
  notRunnable?: string | null;
  /** Link to a run in the MLflow UI, when one is configured. */
  runUrl: (runId: string) => string | null;
  onParam: (name: string, text: string) => void;
  onResetParams: () => void;
  onExtract: () => void;
  onRun: () => void;
  onCancel: () => void;
}

function RunLink(props: { run: IRunState; runUrl: (runId: string) => string | null }) {
  const { runId, modelVersion, gate } = props.run;
  if (!runId) {
    return <div className="jp-mlops-RunLink" />;
  }
  const url = props.runUrl(runId);
  return (
    <div className="jp-mlops-RunLink">
      MLflow run{' '}
      {url ? (
        <a
          href={url}
          target="_blank"
          rel="noopener noreferrer"
          data-testid="mlops-run-link"
          data-run-id={runId}
          title={runId}
        >
          <code>{runId.slice(0, 12)}</code>
        </a>
      ) : (
        <code data-testid="mlops-run-link" data-run-id={runId} title={`MLflow run id ${runId}`}>
          {runId.slice(0, 12)}
        </code>
      )}
      {modelVersion && (
        <span data-testid="mlops-run-model-version"> · model version {modelVersion}</span>
      )}
      {gate && (
        <span
          className="jp-mlops-Gate"
          data-testid="mlops-run-gate"
          data-gate={gate.outcome}
          title={gate.reasons.join('\n')}
        >
          {' '}
          · gate {gate.outcome}
        </span>
      )}
    </div>
  );
}

export function RunView(props: IRunViewProps): JSX.Element {
  const { run, extract } = props;
  const active = isRunActive(run);
  const elapsed = run.phase !== 'idle' && run.elapsed > 0 ? formatSeconds(run.elapsed) : '';
  const blocker = active ? null : (props.notRunnable ?? runBlocker(props.paramFields));
  // The server can cancel only the runs it started (the panel's); null: the server's own.
  const from = sourceLabel(run.source);
  const owned = run.source === null || run.source === 'panel';
  return (
    <div className="jp-mlops-Run">
      <div className="jp-mlops-Actions">
        <button
          className="jp-mlops-Button"
          data-testid="mlops-extract"
          disabled={!props.canRun || extract.busy}
          onClick={props.onExtract}
          title="Write the pipeline package from the saved notebook"
        >
          Extract
        </button>
        <button
          className="jp-mlops-Button jp-mod-accept"
          data-testid="mlops-run"
          disabled={!props.canRun || active || blocker !== null}
          onClick={props.onRun}
          title="Run the pipeline headless (the notebook is saved first)"
          aria-describedby={blocker ? 'jp-mlops-run-blocked' : undefined}
        >
          Run
        </button>
        <button
          className="jp-mlops-Button jp-mod-warn"
          data-testid="mlops-cancel"
          disabled={!active || run.phase === 'cancelling' || !owned}
          onClick={props.onCancel}
          title={
            owned
              ? 'Stop the run (steps going on are stopped)'
              : `Started from ${from}: stop it where it runs`
          }
        >
          Cancel
        </button>
      </div>
      {blocker && (
        <div
          id="jp-mlops-run-blocked"
          className="jp-mlops-RunBlocked"
          data-testid="mlops-run-blocked"
          role="status"
        >
          Run disabled: {blocker}
        </div>
      )}
      <ExtractMessage extract={extract} />
      <ParamFormView
        fields={props.paramFields}
        run={run}
        onParam={props.onParam}
        onReset={props.onResetParams}
      />
      <div
        className="jp-mlops-RunStatus"
        data-testid="mlops-run-status"
        data-phase={run.phase}
        role="status"
      >
        <span className="jp-mlops-RunSummary">{runSummary(run)}</span>
        {run.phase !== 'idle' && from && (
          <span className="jp-mlops-RunFrom" data-testid="mlops-run-from">
            from {from}
          </span>
        )}
        <span className="jp-mlops-RunElapsed">{elapsed}</span>
      </div>
      <RunLink run={run} runUrl={props.runUrl} />
      {run.phase !== 'idle' && (
        <details className="jp-mlops-Log">
          <summary>Log</summary>
          <pre data-testid="mlops-run-log">{run.log.join('\n')}</pre>
        </details>
      )}
    </div>
  );
}
