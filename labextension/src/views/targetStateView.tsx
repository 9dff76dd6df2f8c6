/**
 * What a deploy target that is not a live service holds (a batch target's table, a package
 * target's build, an MLflow plugin's deployment), and any target's last recorded rollout.
 *
 * Stable hooks for browser tests (data-testid): mlops-deploy-state[data-kind][data-version],
 * mlops-deploy-verification[data-outcome].
 */

import * as React from 'react';

import { localTime, verificationText } from '../core/deployments';
import { ITargetStateJSON, IVerificationJSON } from '../core/types';

export function TargetStateView(props: { kind: string; state: ITargetStateJSON }): JSX.Element {
  const { kind, state } = props;
  return (
    <div data-testid="mlops-deploy-state" data-kind={kind} data-version={state.version ?? ''}>
      {state.problem && (
        <div className="jp-mlops-Message" data-failed="true">
          {state.problem}
        </div>
      )}
      <div className="jp-mlops-Metrics">
        <strong>{state.version ? `v${state.version}` : 'nothing deployed yet'}</strong>
        {state.where && <span className="jp-mlops-ModelDate">{state.where}</span>}
      </div>
      {state.detail && <div className="jp-mlops-Hint">{state.detail}</div>}
    </div>
  );
}

export function VerificationLine(props: {
  verification: IVerificationJSON | null;
}): JSX.Element | null {
  const { verification } = props;
  const line = verificationText(verification);
  if (!verification || !line) {
    return null;
  }
  return (
    <div
      className="jp-mlops-Hint"
      data-testid="mlops-deploy-verification"
      data-outcome={verification.outcome ?? ''}
      title={verification.reason}
    >
      {line}
      {verification.time ? ` · ${localTime(verification.time)}` : ''}
    </div>
  );
}
