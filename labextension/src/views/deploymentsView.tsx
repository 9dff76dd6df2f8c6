/**
 * The Deployments section (added to the panel through `IMlopsPanel.addSection`): per deploy
 * target of the pipeline, which versions serve what share, each one's error rate and p99
 * latency since its service started, Deploy and Rollback buttons with the rollout's live
 * progress and outcome, and the latest moves of the target's alias.
 *
 * Every kind of target is listed: a rest target with its service (versions, shares, metrics),
 * a batch, package or mlflow target with what it holds (`targetStateView.tsx`); each with
 * its last rollout's outcome and checks.
 *
 * Stable hooks for browser tests (data-testid): mlops-deployments (the body; data-state =
 * idle | loading | ok | failed), mlops-deployments-reload, mlops-deployments-message,
 * mlops-deployments-empty, mlops-deploy-target[data-target=NAME], inside it
 * mlops-deploy-kind[data-kind], mlops-deploy-service[data-reachable] (rest),
 * mlops-deploy-state[data-kind][data-version] (other kinds), mlops-deploy-verification, mlops-deploy-share[data-version][data-share],
 * mlops-deploy-version-input, mlops-deploy, mlops-rollback, mlops-deploy-stop (while a
 * rollout goes on), mlops-deploy-action
 * [data-kind][data-busy][data-failed], mlops-deploy-progress, mlops-deploy-history
 * with mlops-deploy-move[data-reason].
 */

import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import {
  DEPLOY_DOCS,
  DEPLOY_EXAMPLE,
  formatMs,
  formatPercent,
  heldVersion,
  localTime,
  moveText,
  serviceDown,
  splitOf,
  targetWhere
} from '../core/deployments';
import { DeploymentsModel, IDeploymentsState, ITargetAction } from '../core/deploymentsModel';
import { phaseOf } from '../core/followedReply';
import { IDeployTargetJSON, IServedVersionJSON, IServiceStateJSON } from '../core/types';
import { HistoryList } from './historyList';
import { TargetStateView, VerificationLine } from './targetStateView';
import { SectionHead } from './sectionHead';

/** What the buttons do (the lab glue asks for confirmation before deploying or rolling back). */
export interface IDeploymentsActions {
  reload: () => void;
  deploy: (target: IDeployTargetJSON, version: string | null) => void;
  rollback: (target: IDeployTargetJSON) => void;
  /** Stop the rollout going on to the target (no confirmation: it rolls back). */
  stop: (target: IDeployTargetJSON) => void;
}

function VersionLine(props: { version: IServedVersionJSON }) {
  const { version } = props;
  const stats = version.stats;
  return (
    <li className="jp-mlops-Metrics">
      <strong>v{version.version}</strong>
      <span>{version.share > 0 ? `${version.share} %` : (version.role ?? 'no traffic')}</span>
      {stats && (
        <>
          <span className="jp-mlops-Metric">
            requests <strong>{stats.requests}</strong>
          </span>
          <span className="jp-mlops-Metric">
            errors <strong>{formatPercent(stats.error_rate)}</strong>
          </span>
          <span className="jp-mlops-Metric">
            p99 <strong>{formatMs(stats.p99_ms)}</strong>
          </span>
        </>
      )}
    </li>
  );
}

function ServiceView(props: { service: IServiceStateJSON }) {
  const { service } = props;
  if (!service.reachable) {
    return (
      <div className="jp-mlops-Hint" data-testid="mlops-deploy-service" data-reachable="false">
        {serviceDown(service)}
      </div>
    );
  }
  const { serving, idle } = splitOf(service);
  return (
    <div data-testid="mlops-deploy-service" data-reachable="true">
      {service.problem && (
        <div className="jp-mlops-Message" data-failed="true">
          {service.problem}
        </div>
      )}
      <div className="jp-mlops-ShareBar" aria-label="traffic split">
        {serving.map(v => (
          <span
            key={v.version}
            className="jp-mlops-Share"
            data-testid="mlops-deploy-share"
            data-version={v.version}
            data-share={v.share}
            data-role={v.role ?? ''}
            style={{ flexGrow: v.share }}
            title={`version ${v.version}: ${v.share} % of the requests`}
          >
            v{v.version} {v.share} %
          </span>
        ))}
      </div>
      <ul className="jp-mlops-ServedVersions">
        {[...serving, ...idle].map(v => (
          <VersionLine key={v.version} version={v} />
        ))}
      </ul>
      {service.rollout && <div className="jp-mlops-Hint">rollout {service.rollout} going on</div>}
    </div>
  );
}

function ActionView(props: { action: ITargetAction | undefined }) {
  const { action } = props;
  if (!action) {
    return null;
  }
  const lines = action.rollout?.progress ?? [];
  return (
    <div
      data-testid="mlops-deploy-action"
      data-kind={action.kind}
      data-busy={action.busy}
      data-failed={action.failed}
    >
      {action.message && (
        <div className="jp-mlops-Message" data-failed={action.failed} role="status">
          {action.message}
        </div>
      )}
      {lines.length > 0 && (
        <details className="jp-mlops-Log" open={action.busy}>
          <summary>Progress ({lines.length} steps)</summary>
          <pre data-testid="mlops-deploy-progress">
            {lines.map(line => line.message).join('\n')}
          </pre>
        </details>
      )}
    </div>
  );
}

function MovesList(props: { target: IDeployTargetJSON }) {
  const moves = props.target.history;
  if (!moves.length) {
    return null;
  }
  return (
    <HistoryList
      title="History"
      items={moves}
      testId="mlops-deploy-history"
      rowTestId="mlops-deploy-move"
      rowKey={(move, index) => `${move.time}-${index}`}
      rowData={move => ({ 'data-reason': move.reason })}
      row={move => (
        <>
          <span className="jp-mlops-ModelDate">{localTime(move.time)}</span> {moveText(move)} ·{' '}
          {move.reason}
          {move.user ? ` · ${move.user}` : ''}
          {move.note && <div className="jp-mlops-Hint">{move.note}</div>}
        </>
      )}
    />
  );
}

function TargetView(props: {
  target: IDeployTargetJSON;
  action: ITargetAction | undefined;
  actions: IDeploymentsActions;
}) {
  const { target, action, actions } = props;
  const [version, setVersion] = React.useState('');
  const busy = action?.busy === true;
  const held = heldVersion(target);
  return (
    <div
      className="jp-mlops-DeployTarget"
      data-testid="mlops-deploy-target"
      data-target={target.name}
    >
      <div className="jp-mlops-ModelHead">
        <strong>{target.name}</strong>
        <span className="jp-mlops-Alias" data-testid="mlops-deploy-kind" data-kind={target.kind}>
          {target.kind === 'rest' ? target.strategy : target.kind}
        </span>
        <span>
          @{target.alias}
          {held ? ` = v${held}` : ''}
        </span>
        <span className="jp-mlops-ModelDate">{targetWhere(target)}</span>
      </div>
      {target.service && <ServiceView service={target.service} />}
      {target.state && <TargetStateView kind={target.kind} state={target.state} />}
      <VerificationLine verification={target.verification} />
      <div className="jp-mlops-DeployButtons">
        <input
          className="jp-mlops-VersionInput"
          data-testid="mlops-deploy-version-input"
          placeholder="version (default: challenger)"
          aria-label={`version to deploy to ${target.name}`}
          value={version}
          onChange={event => setVersion(event.target.value.trim())}
        />
        <button
          className="jp-mlops-Button jp-mod-accept"
          data-testid="mlops-deploy"
          disabled={busy}
          onClick={() => actions.deploy(target, version || null)}
        >
          Deploy
        </button>
        <button
          className="jp-mlops-Button"
          data-testid="mlops-rollback"
          disabled={busy || target.history.length === 0}
          onClick={() => actions.rollback(target)}
        >
          Rollback
        </button>
        {busy && action?.kind === 'deploy' && (
          <button
            className="jp-mlops-Button"
            data-testid="mlops-deploy-stop"
            title="Stop the rollout: it rolls back at its next step"
            onClick={() => actions.stop(target)}
          >
            Stop
          </button>
        )}
      </div>
      <ActionView action={action} />
      <MovesList target={target} />
    </div>
  );
}

function Empty() {
  return (
    <div className="jp-mlops-Hint" data-testid="mlops-deployments-empty">
      No deploy targets: add a <code>deploy:</code> section to the pipeline's pipeline.yaml, e.g.{' '}
      <code>{DEPLOY_EXAMPLE}</code> (see {DEPLOY_DOCS}, “Rollouts”).
    </div>
  );
}

export function DeploymentsView(props: {
  state: IDeploymentsState;
  actions: IDeploymentsActions;
}): JSX.Element | null {
  const { state, actions } = props;
  if (state.path === null) {
    return null;
  }
  const reply = state.reply;
  const phase = phaseOf(state);
  return (
    <div className="jp-mlops-Deployments" data-testid="mlops-deployments" data-state={phase}>
      <SectionHead reloadTestId="mlops-deployments-reload" onReload={actions.reload}>
        <span className="jp-mlops-Hint">{reply?.model ? `model ${reply.model}` : ''}</span>
      </SectionHead>
      {(state.message ?? reply?.problem) && (
        <div
          className="jp-mlops-Message"
          data-failed="true"
          data-testid="mlops-deployments-message"
        >
          {state.message ?? reply?.problem}
        </div>
      )}
      {reply && !reply.targets.length && <Empty />}
      {reply?.targets.map(target => (
        <TargetView
          key={target.name}
          target={target}
          action={state.actions[target.name]}
          actions={actions}
        />
      ))}
    </div>
  );
}

/** The section's widget: the view of `model`, rendered again on every change. */
export function deploymentsWidget(
  model: DeploymentsModel,
  actions: IDeploymentsActions
): ReactWidget {
  const widget = ReactWidget.create(
    <UseSignal signal={model.changed} initialArgs={model.state}>
      {(_, state) => <DeploymentsView state={state ?? model.state} actions={actions} />}
    </UseSignal>
  );
  widget.addClass('jp-mlops-SectionBody');
  return widget;
}
