/**
 * The Models section: the registered versions of each model of the pipeline, each
 * labelled "<model> · step <step>", with aliases, the parameters and metrics of the run
 * that trained it, gate outcome, that run and "Promote to @champion" (see promoteView.tsx).
 */

import * as React from 'react';

import { modelLabel } from '../core/compare';
import { formatDateTime, fullDateTime } from '../core/format';
import { IModelsJSON, IModelVersionJSON, IPipelineJSON } from '../core/types';
import { PromoteAction, PromoteControl } from './promoteView';
import { Metrics, Params } from './recordedValues';
import { SectionHead } from './sectionHead';

/** The alias "Promote" moves. */
export const PROMOTE_ALIAS = 'champion';

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

/** What every version row needs besides its version: the defaults, links and Promote. */
interface IVersionContext {
  /** The followed pipeline: its defaults mark the parameters a version changed. */
  pipeline: IPipelineJSON | null;
  runLink: (id: string) => React.ReactNode;
  onPromote: PromoteAction;
}

function VersionItem(props: { version: IModelVersionJSON; model: IModelsJSON } & IVersionContext) {
  const { version, model } = props;
  const label = modelLabel(model.name, model.step);
  return (
    <li
      className="jp-mlops-ModelVersion"
      data-testid="mlops-model-version"
      data-version={version.version}
      data-model={model.name}
    >
      <div className="jp-mlops-ModelHead">
        <strong>v{version.version}</strong>
        <span className="jp-mlops-ModelLabel" data-testid="mlops-model-label">
          {label}
        </span>
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
        <span className="jp-mlops-ModelDate" title={fullDateTime(version.created_ms || null)}>
          {formatDateTime(version.created_ms || null)}
        </span>
      </div>
      <Params params={version.params} pipeline={props.pipeline} />
      <Metrics metrics={version.metrics} />
      <Gate version={version} />
      {version.pipeline_run_id && (
        <div className="jp-mlops-ModelRun">run {props.runLink(version.pipeline_run_id)}</div>
      )}
      <PromoteControl
        model={model.name}
        label={label}
        version={version.version}
        alias={PROMOTE_ALIAS}
        current={version.aliases.includes(PROMOTE_ALIAS)}
        onPromote={props.onPromote}
      />
    </li>
  );
}

export interface IModelsViewProps extends IVersionContext {
  /** Every registered model of the pipeline (one per `--model` step). */
  models: IModelsJSON[] | null;
  message: string | null;
  onReload: () => void;
}

function VersionList(props: { model: IModelsJSON | undefined } & IVersionContext) {
  const { model, ...context } = props;
  const versions = model?.versions ?? [];
  return model && versions.length ? (
    <ul className="jp-mlops-ModelVersions">
      {versions.map(v => (
        <VersionItem key={v.version} version={v} model={model} {...context} />
      ))}
    </ul>
  ) : (
    <div className="jp-mlops-Hint" data-testid="mlops-models-empty">
      No registered version yet: a run whose step has <code>--model VAR</code> registers one.
    </div>
  );
}

export function ModelsView(props: IModelsViewProps): JSX.Element {
  const models = props.models ?? [];
  const context = { pipeline: props.pipeline, runLink: props.runLink, onPromote: props.onPromote };
  const single = models.length <= 1;
  return (
    <section className="jp-mlops-Section" data-testid="mlops-models" aria-label="Models">
      <SectionHead reloadTestId="mlops-models-reload" onReload={props.onReload}>
        <h3>
          Models{single && models[0]?.name ? `: ${modelLabel(models[0].name, models[0].step)}` : ''}
        </h3>
      </SectionHead>
      {props.message && (
        <div className="jp-mlops-Message" data-failed="true">
          {props.message}
        </div>
      )}
      {single ? (
        <VersionList model={models[0]} {...context} />
      ) : (
        models.map(model => (
          <div key={model.name} data-testid="mlops-model" data-model={model.name}>
            <h4 className="jp-mlops-ModelName">{modelLabel(model.name, model.step)}</h4>
            <VersionList model={model} {...context} />
          </div>
        ))
      )}
    </section>
  );
}
