/**
 * The Models section (registered versions: aliases, metrics, gate outcome) and the recent
 * runs recorded in MLflow.
 */

import * as React from 'react';

import { IModelsJSON, IModelVersionJSON, IRunHistory } from '../core/types';
import { HistoryList } from './historyList';
import { SectionHead } from './sectionHead';

function formatMetric(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}

function Metrics(props: { metrics: Record<string, number> }) {
  const entries = Object.entries(props.metrics).sort(([a], [b]) => (a < b ? -1 : 1));
  if (!entries.length) {
    return null;
  }
  return (
    <div className="jp-mlops-Metrics" data-testid="mlops-metrics">
      {entries.map(([name, value]) => (
        <span key={name} className="jp-mlops-Metric">
          {name} <strong>{formatMetric(value)}</strong>
        </span>
      ))}
    </div>
  );
}

function Gate(props: { version: IModelVersionJSON }) {
  const { gate, gate_reasons: reasons } = props.version;
  if (!gate) {
    return null;
  }
  return (
    <div className="jp-mlops-Gate" data-testid="mlops-model-gate" data-gate={gate}>
      gate: {gate}
      {reasons ? ` — ${reasons}` : ''}
    </div>
  );
}

function VersionItem(props: {
  version: IModelVersionJSON;
  runLink: (id: string) => React.ReactNode;
}) {
  const { version } = props;
  const created = version.created_ms ? new Date(version.created_ms).toLocaleString() : '';
  return (
    <li
      className="jp-mlops-ModelVersion"
      data-testid="mlops-model-version"
      data-version={version.version}
    >
      <div className="jp-mlops-ModelHead">
        <strong>v{version.version}</strong>
        {version.aliases.map(alias => (
          <span
            key={alias}
            className="jp-mlops-Alias"
            data-testid="mlops-model-alias"
            data-alias={alias}
          >
            @{alias}
          </span>
        ))}
        <span className="jp-mlops-ModelDate">{created}</span>
      </div>
      <Metrics metrics={version.metrics} />
      <Gate version={version} />
      {version.pipeline_run_id && (
        <div className="jp-mlops-ModelRun">run {props.runLink(version.pipeline_run_id)}</div>
      )}
    </li>
  );
}

export interface IRecordsViewProps {
  /** Every registered model of the pipeline (one per `--model` step). */
  models: IModelsJSON[] | null;
  history: IRunHistory | null;
  message: string | null;
  runLink: (id: string) => React.ReactNode;
  onReload: () => void;
}

function VersionList(props: {
  models: IModelsJSON | undefined;
  runLink: (id: string) => React.ReactNode;
}) {
  const versions = props.models?.versions ?? [];
  return versions.length ? (
    <ul className="jp-mlops-ModelVersions">
      {versions.map(v => (
        <VersionItem key={v.version} version={v} runLink={props.runLink} />
      ))}
    </ul>
  ) : (
    <div className="jp-mlops-Hint" data-testid="mlops-models-empty">
      No registered version yet: a run whose step has <code>--model VAR</code> registers one.
    </div>
  );
}

export function ModelsView(props: IRecordsViewProps): JSX.Element {
  const models = props.models ?? [];
  const single = models.length <= 1;
  return (
    <section className="jp-mlops-Section" data-testid="mlops-models" aria-label="Models">
      <SectionHead reloadTestId="mlops-models-reload" onReload={props.onReload}>
        <h3>Models{single && models[0]?.name ? `: ${models[0].name}` : ''}</h3>
      </SectionHead>
      {props.message && (
        <div className="jp-mlops-Message" data-failed="true">
          {props.message}
        </div>
      )}
      {single ? (
        <VersionList models={models[0]} runLink={props.runLink} />
      ) : (
        models.map(model => (
          <div key={model.name} data-testid="mlops-model" data-model={model.name}>
            <h4 className="jp-mlops-ModelName">{model.name}</h4>
            <VersionList models={model} runLink={props.runLink} />
          </div>
        ))
      )}
    </section>
  );
}

export function HistoryView(props: IRecordsViewProps): JSX.Element | null {
  const runs = props.history?.runs ?? [];
  if (!runs.length) {
    return null;
  }
  return (
    <section className="jp-mlops-Section" data-testid="mlops-history" aria-label="Recent runs">
      <HistoryList
        title="Recent runs"
        items={runs}
        rowTestId="mlops-history-run"
        rowKey={run => run.id}
        rowData={run => ({ 'data-status': run.mlops_status ?? run.status })}
        row={run => (
          <>
            <span className="jp-mlops-HistoryStatus">
              {run.mlops_status ?? run.status.toLowerCase()}
            </span>{' '}
            {props.runLink(run.id)} <span className="jp-mlops-ModelDate">{run.start ?? ''}</span>
            {run.model_version && <span> · model v{run.model_version}</span>}
            {run.gate && (
              <span className="jp-mlops-Gate" data-gate={run.gate}>
                {' '}
                · gate {run.gate}
              </span>
            )}
            <Metrics metrics={run.metrics} />
          </>
        )}
      />
    </section>
  );
}
