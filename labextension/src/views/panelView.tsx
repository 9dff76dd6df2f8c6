/**
 * The whole panel as one React tree rendered from `IPanelState`: server banner, notebook
 * line, empty states, errors, then titled sections: Run (with the parameters), DAG, Steps,
 * Models (or why there are none), Recent runs.
 */

import * as React from 'react';

import { paramFields } from '../core/paramForm';
import { recentRuns } from '../core/recentRuns';
import { isRunActive } from '../core/run';
import { IPanelState, notRunnableReason } from '../core/state';
import { brokenSteps, dagInput } from '../core/pipeline';
import { DagView } from './dagView';
import { FileOpenerContext } from './extractView';
import { ModelsView } from './modelsView';
import { PromoteAction } from './promoteView';
import { RunsView } from './runsView';
import { RunView } from './runView';
import { Section } from './sectionHead';
import { StepsView } from './stepsView';
import { IStepStatus, StepState } from '../core/types';
import { FRONTEND_VERSION } from '../core/version';

export interface IPanelActions {
  selectStep: (step: string) => void;
  setParam: (name: string, text: string) => void;
  resetParams: () => void;
  extract: () => void;
  run: () => void;
  cancel: () => void;
  reloadRecords: () => void;
  retryServer: () => void;
  markCell: () => void;
  /** Open the DAG in a main-area tab. */
  openDag: () => void;
  /** Open a file (relative to the server root) in JupyterLab. */
  openFile: (path: string) => void;
  /** Set the form to a recorded run's parameters and run. */
  rerun: (params: Record<string, string>) => void;
  promote: PromoteAction;
}

export interface IPanelViewProps {
  state: IPanelState;
  actions: IPanelActions;
  /** MLflow UI link of a run, or null when no MLflow UI URL is configured. */
  runUrl: (runId: string) => string | null;
}

function ServerBanner(props: { state: IPanelState; onRetry: () => void }) {
  const { server, serverVersion, serverMessage } = props.state;
  if (server === 'ok' || server === 'checking') {
    return null;
  }
  const text =
    server === 'missing'
      ? 'The jupyter_mlops server extension is not running in this Jupyter server. Install jupyter_mlops (pip) in the environment that runs JupyterLab, check that `jupyter server extension list` shows it enabled, and restart JupyterLab.'
      : server === 'mismatch'
        ? `The panel (${FRONTEND_VERSION}) and the server extension (${serverVersion}) have different versions: reload the page; if that does not help, reinstall jupyter_mlops and restart JupyterLab.`
        : `Cannot reach the jupyter_mlops server extension: ${serverMessage ?? 'no reply'}`;
  return (
    <div
      className="jp-mlops-Banner"
      data-testid="mlops-server-status"
      data-state={server}
      role="alert"
    >
      <span>{text}</span>
      {server !== 'mismatch' && (
        <button className="jp-mlops-LinkButton" onClick={props.onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

function Empty(props: { reason: string; children: React.ReactNode }) {
  return (
    <div className="jp-mlops-Empty" data-testid="mlops-empty" data-reason={props.reason}>
      {props.children}
    </div>
  );
}

function basename(path: string): string {
  return path.split('/').pop() ?? path;
}

/** A recorded run can be run again: the pipeline scanned, no run going on. */
function canRerun(state: IPanelState): boolean {
  return state.scan === 'ok' && state.rows.length > 0 && !isRunActive(state.run);
}

/**
 * Whether the Models section applies: a step of the pipeline registers a model (the
 * models reply lists them), or the models are not known yet (loading, or a failed read).
 */
function hasModelStep(state: IPanelState): boolean {
  return state.models === null || state.models.some(model => (model.models ?? []).length > 0);
}

/** In place of the Models section when no step of the notebook registers a model. */
function NoModelStep() {
  return (
    <Section title="Models" id="models">
      <div className="jp-mlops-Hint" data-testid="mlops-no-model-step">
        No model step in this notebook: <code>%%mlstep NAME --model VAR</code> registers the value
        of <code>VAR</code> as a model version after each run.
      </div>
    </Section>
  );
}

function Body(props: IPanelViewProps) {
  const { state, actions } = props;
  const statuses: Record<string, IStepStatus | undefined> =
    state.run.phase === 'idle' ? {} : state.run.steps;
  const states: Record<string, StepState | undefined> = Object.fromEntries(
    Object.entries(statuses).map(([name, s]) => [name, s?.state])
  );
  const dag = React.useMemo(() => dagInput(state.rows), [state.rows]);
  const runLink = (id: string) => {
    const url = props.runUrl(id);
    return url ? (
      <a href={url} target="_blank" rel="noopener noreferrer">
        <code>{id.slice(0, 12)}</code>
      </a>
    ) : (
      <code title={id}>{id.slice(0, 12)}</code>
    );
  };
  const noSteps = state.scan === 'ok' && state.rows.length === 0;
  return (
    <FileOpenerContext.Provider value={actions.openFile}>
      <Section title="Run" id="run">
        <RunView
          paramFields={paramFields(state.pipeline, state.paramTexts)}
          extract={state.extract}
          run={state.run}
          canRun={state.scan === 'ok' && state.rows.length > 0}
          notRunnable={notRunnableReason(state)}
          runUrl={props.runUrl}
          onParam={actions.setParam}
          onResetParams={actions.resetParams}
          onExtract={actions.extract}
          onRun={actions.run}
          onCancel={actions.cancel}
        />
      </Section>
      {state.scanMessage && (
        <div
          className="jp-mlops-Message"
          data-failed="true"
          data-testid="mlops-scan-error"
          role="alert"
        >
          {state.scanMessage}
        </div>
      )}
      {state.otherErrors.length > 0 && (
        <ul className="jp-mlops-Errors" data-testid="mlops-errors" role="alert">
          {state.otherErrors.map((error, i) => (
            <li key={i}>
              {error.cell !== null ? `cell ${error.cell}: ` : ''}
              {error.message}
            </li>
          ))}
        </ul>
      )}
      {noSteps ? (
        <Empty reason="no-steps">
          <p>
            No steps yet. Mark a code cell as a pipeline step: its first line becomes{' '}
            <code>%%mlstep NAME</code>.
          </p>
          <button
            className="jp-mlops-Button"
            data-testid="mlops-mark-cell"
            onClick={actions.markCell}
          >
            Mark the active cell as a step
          </button>
        </Empty>
      ) : (
        <div className="jp-mlops-StepsAndDag">
          {dag.length > 0 && (
            <Section title="DAG" id="dag">
              <DagView
                steps={dag}
                states={states}
                broken={brokenSteps(state.rows)}
                onSelect={actions.selectStep}
                onOpen={actions.openDag}
              />
            </Section>
          )}
          {state.rows.length > 0 && (
            <Section title="Steps" id="steps" count={state.rows.length}>
              <StepsView rows={state.rows} statuses={statuses} onSelect={actions.selectStep} />
            </Section>
          )}
        </div>
      )}
      {hasModelStep(state) ? (
        <ModelsView
          models={state.models}
          pipeline={state.pipeline}
          message={state.recordsMessage}
          runLink={runLink}
          onReload={actions.reloadRecords}
          onPromote={actions.promote}
        />
      ) : (
        <NoModelStep />
      )}
      <RunsView
        runs={recentRuns(state.history, state.liveRuns ?? [], state.pipeline)}
        pipeline={state.pipeline}
        models={state.models}
        canRerun={canRerun(state)}
        runLink={runLink}
        onRerun={actions.rerun}
      />
    </FileOpenerContext.Provider>
  );
}

export function PanelView(props: IPanelViewProps): JSX.Element {
  const { state } = props;
  const usable = state.server === 'ok' || state.server === 'mismatch';
  const scanLabel: Record<string, string> = {
    idle: '',
    scanning: 'scanning…',
    ok: state.pipeline ? `pipeline ${state.pipeline.name}` : '',
    errors: 'cannot be extracted',
    failed: 'scan failed'
  };
  return (
    <div className="jp-mlops-Body" data-server={state.server}>
      <ServerBanner state={state} onRetry={props.actions.retryServer} />
      {state.notebook === null ? (
        <Empty reason="no-notebook">Open a notebook to see its pipeline steps.</Empty>
      ) : (
        <>
          <div className="jp-mlops-Notebook" data-testid="mlops-notebook" data-scan={state.scan}>
            <span className="jp-mlops-NotebookName" title={state.notebook}>
              {basename(state.notebook)}
            </span>
            <span className="jp-mlops-ScanState">{scanLabel[state.scan]}</span>
          </div>
          {usable && <Body {...props} />}
        </>
      )}
    </div>
  );
}
