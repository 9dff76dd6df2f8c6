/**
 * The Monitoring section (added to the panel through `IMlopsPanel.addSection`): per
 * registered model of the pipeline, its latest monitoring window (rows, versions, dataset
 * drift, drift per feature with its test and statistic, prediction drift), the performance
 * trend as one sparkline per metric (estimated points hollow), a link opening the latest
 * report in a new tab; then the pipeline's triggers and when they last fired. Drift is said
 * with an icon and a word, never with colour alone.
 *
 * Stable hooks for browser tests (data-testid): mlops-monitoring (the body; data-state =
 * idle | loading | ok | failed), mlops-monitoring-reload, mlops-monitoring-message,
 * mlops-monitor-model[data-model][data-monitored], inside it mlops-monitor-hint (never
 * monitored), mlops-monitor-window, mlops-monitor-dataset[data-drifted],
 * mlops-monitor-feature[data-column][data-drifted], mlops-monitor-prediction[data-drifted],
 * mlops-monitor-trend[data-metric] (an svg), mlops-monitor-report (the link);
 * mlops-monitor-triggers with mlops-monitor-trigger[data-trigger][data-kind].
 */

import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { localTime } from '../core/deployments';
import {
  cooldownText,
  datasetDriftText,
  driftWord,
  formatNumber,
  polylinePoints,
  sparkline,
  trendText,
  windowSummary
} from '../core/monitoring';
import { IMonitoringState, MonitoringModel } from '../core/monitoringModel';
import { phaseOf } from '../core/followedReply';
import {
  IModelMonitoringJSON,
  IMonitoringWindowJSON,
  ITrendPointJSON,
  ITriggerStateJSON
} from '../core/types';
import { SectionHead } from './sectionHead';

const SPARK_WIDTH = 120;
const SPARK_HEIGHT = 28;

/** What the section's controls do. */
export interface IMonitoringActions {
  reload: () => void;
  /** The URL opening the latest report of `model` in a new tab. */
  reportUrl: (model: string) => string | null;
}

/** ⚠ drifted / ✓ stable: an icon and its word. */
function DriftMark(props: { drifted: boolean | null }) {
  const { drifted } = props;
  const icon = drifted === null ? '–' : drifted ? '⚠' : '✓';
  return (
    <span className="jp-mlops-Drift" data-drifted={drifted === null ? 'unknown' : drifted}>
      <span aria-hidden="true">{icon}</span> {driftWord(drifted)}
    </span>
  );
}

function FeatureTable(props: { window: IMonitoringWindowJSON }) {
  const columns = props.window.columns;
  if (!columns.length) {
    return null;
  }
  return (
    <table className="jp-mlops-DriftTable">
      <thead>
        <tr>
          <th scope="col">feature</th>
          <th scope="col">test</th>
          <th scope="col">statistic</th>
          <th scope="col">drift</th>
        </tr>
      </thead>
      <tbody>
        {columns.map(column => (
          <tr
            key={column.column}
            data-testid="mlops-monitor-feature"
            data-column={column.column}
            data-drifted={column.drifted}
          >
            <td>{column.column}</td>
            <td>{column.test ?? '–'}</td>
            <td className="jp-mlops-Number">{formatNumber(column.statistic)}</td>
            <td>
              <DriftMark drifted={column.drifted} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Sparkline(props: { metric: string; points: ITrendPointJSON[] }) {
  const { metric, points } = props;
  const spark = sparkline(points, SPARK_WIDTH, SPARK_HEIGHT);
  const label = trendText(metric, points);
  return (
    <div className="jp-mlops-Trend">
      <svg
        data-testid="mlops-monitor-trend"
        data-metric={metric}
        width={SPARK_WIDTH}
        height={SPARK_HEIGHT}
        viewBox={`0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`}
        role="img"
        aria-label={label}
      >
        <polyline className="jp-mlops-TrendLine" points={polylinePoints(spark)} />
        {spark.map((p, index) => (
          <circle
            key={index}
            className="jp-mlops-TrendPoint"
            data-estimated={p.estimated}
            cx={p.x}
            cy={p.y}
            r={2.5}
          >
            <title>{`${localTime(p.start)}: ${formatNumber(p.value)}${p.estimated ? ' (estimated)' : ''}`}</title>
          </circle>
        ))}
      </svg>
      <span>{label}</span>
    </div>
  );
}

function WindowView(props: { window: IMonitoringWindowJSON }) {
  const { window } = props;
  const dataset = datasetDriftText(window);
  const prediction = window.predictionDrift;
  return (
    <div data-testid="mlops-monitor-window">
      <div className="jp-mlops-Hint">
        latest window {localTime(window.start)} – {localTime(window.end)}
      </div>
      <div className="jp-mlops-Hint">{windowSummary(window)}</div>
      {window.datasetDrifted !== null && (
        <div data-testid="mlops-monitor-dataset" data-drifted={window.datasetDrifted}>
          dataset: <DriftMark drifted={window.datasetDrifted} />
          {dataset && ` (${dataset})`}
        </div>
      )}
      <FeatureTable window={window} />
      {prediction && (
        <div data-testid="mlops-monitor-prediction" data-drifted={prediction.drifted}>
          predictions: <DriftMark drifted={prediction.drifted} /> (statistic{' '}
          {formatNumber(prediction.statistic)})
        </div>
      )}
    </div>
  );
}

function ModelView(props: { model: IModelMonitoringJSON; reportUrl: string | null }) {
  const { model, reportUrl } = props;
  const metrics = Object.entries(model.trend);
  return (
    <div
      className="jp-mlops-MonitorModel"
      data-testid="mlops-monitor-model"
      data-model={model.name}
      data-monitored={model.monitored}
    >
      <div className="jp-mlops-ModelHead">
        <strong>{model.name}</strong>
        <span className="jp-mlops-ModelDate">{model.experiment}</span>
      </div>
      {model.problem && (
        <div className="jp-mlops-Message" data-failed="true">
          {model.problem}
        </div>
      )}
      {model.hint && (
        <div className="jp-mlops-Hint" data-testid="mlops-monitor-hint">
          {model.hint}
        </div>
      )}
      {model.latest && <WindowView window={model.latest} />}
      {metrics.length > 0 && (
        <div className="jp-mlops-Trends">
          <div className="jp-mlops-Hint">
            performance over the latest {model.trendWindows} windows (hollow points: estimated
            without labels)
          </div>
          {metrics.map(([metric, points]) => (
            <Sparkline key={metric} metric={metric} points={points} />
          ))}
        </div>
      )}
      {model.latest?.report && reportUrl && (
        <a
          className="jp-mlops-LinkButton"
          data-testid="mlops-monitor-report"
          href={reportUrl}
          target="_blank"
          rel="noopener noreferrer"
        >
          Open report
        </a>
      )}
    </div>
  );
}

function TriggerLine(props: { trigger: ITriggerStateJSON }) {
  const { trigger } = props;
  const cooldown = cooldownText(trigger);
  const fired = trigger.lastFired ? `last fired ${localTime(trigger.lastFired)}` : 'never fired';
  return (
    <li data-testid="mlops-monitor-trigger" data-trigger={trigger.name} data-kind={trigger.kind}>
      <strong>{trigger.name}</strong> <span className="jp-mlops-Alias">{trigger.kind}</span>{' '}
      {trigger.settings}
      {trigger.deploy ? ` → deploy ${trigger.deploy}` : ''}
      <div className="jp-mlops-Hint">
        {[fired, trigger.reason, trigger.runStatus && `run ${trigger.runStatus}`, cooldown]
          .filter(Boolean)
          .join(' · ')}
      </div>
    </li>
  );
}

function TriggersView(props: { triggers: ITriggerStateJSON[]; problem: string | null }) {
  const { triggers, problem } = props;
  return (
    <div data-testid="mlops-monitor-triggers">
      <div className="jp-mlops-ModelHead">
        <strong>Triggers</strong>
      </div>
      {problem && (
        <div className="jp-mlops-Message" data-failed="true">
          {problem}
        </div>
      )}
      {!problem && !triggers.length && (
        <div className="jp-mlops-Hint">
          No triggers: add a <code>triggers:</code> section to the pipeline's pipeline.yaml.
        </div>
      )}
      <ul className="jp-mlops-ServedVersions">
        {triggers.map(trigger => (
          <TriggerLine key={trigger.name} trigger={trigger} />
        ))}
      </ul>
    </div>
  );
}

export function MonitoringView(props: {
  state: IMonitoringState;
  actions: IMonitoringActions;
}): JSX.Element | null {
  const { state, actions } = props;
  if (state.path === null) {
    return null;
  }
  const reply = state.reply;
  const phase = phaseOf(state);
  const message = state.message ?? reply?.problem;
  return (
    <div className="jp-mlops-Monitoring" data-testid="mlops-monitoring" data-state={phase}>
      <SectionHead reloadTestId="mlops-monitoring-reload" onReload={actions.reload}>
        <span className="jp-mlops-Hint">{reply?.pipeline ? `pipeline ${reply.pipeline}` : ''}</span>
      </SectionHead>
      {message && (
        <div className="jp-mlops-Message" data-failed="true" data-testid="mlops-monitoring-message">
          {message}
        </div>
      )}
      {reply && !reply.models.length && (
        <div className="jp-mlops-Hint">
          No registered model: extract the notebook; a step with <code>--model</code> registers one.
        </div>
      )}
      {reply?.models.map(model => (
        <ModelView key={model.name} model={model} reportUrl={actions.reportUrl(model.name)} />
      ))}
      {reply && <TriggersView triggers={reply.triggers} problem={reply.triggersProblem} />}
    </div>
  );
}

/** The section's widget: the view of `model`, rendered again on every change. */
export function monitoringWidget(model: MonitoringModel, actions: IMonitoringActions): ReactWidget {
  const widget = ReactWidget.create(
    <UseSignal signal={model.changed} initialArgs={model.state}>
      {(_, state) => <MonitoringView state={state ?? model.state} actions={actions} />}
    </UseSignal>
  );
  widget.addClass('jp-mlops-SectionBody');
  return widget;
}
