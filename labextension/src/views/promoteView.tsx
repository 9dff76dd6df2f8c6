/**
 * "Promote" on a model version: a confirmation naming the model, the version and the
 * alias, then the outcome (where the alias moved and the gate's decision); a version the
 * gate rejected is refused with the gate's reason, and "Promote anyway" sends `force`.
 */

import * as React from 'react';

import { PromotionOutcome, promotionOutcome } from '../core/promotion';
import { ApiError, IPromotionJSON } from '../core/types';

/** Moves `alias` of `model` to `version`; resolves to the reply or the ApiError. */
export type PromoteAction = (
  model: string,
  version: string,
  alias: string,
  force: boolean
) => Promise<IPromotionJSON | ApiError>;

type Phase =
  | { step: 'idle' }
  | { step: 'confirm' }
  | { step: 'busy' }
  | { step: 'done'; outcome: PromotionOutcome };

export interface IPromoteProps {
  model: string;
  /** The model as the panel labels it ("<model> · step <step>"). */
  label: string;
  version: string;
  alias: string;
  /** The version holds the alias: no button; a promotion's outcome shows while it does. */
  current: boolean;
  onPromote: PromoteAction;
}

function Confirm(props: IPromoteProps & { onYes: () => void; onNo: () => void }) {
  const yes = React.useRef<HTMLButtonElement>(null);
  React.useEffect(() => yes.current?.focus(), []);
  const titleId = `jp-mlops-promote-${props.model}-${props.version}`;
  return (
    <div
      className="jp-mlops-Confirm"
      role="alertdialog"
      aria-labelledby={titleId}
      data-testid="mlops-promote-confirm"
      onKeyDown={event => event.key === 'Escape' && props.onNo()}
    >
      <span id={titleId}>
        Promote v{props.version} of {props.label} to @{props.alias}?
      </span>
      <button
        ref={yes}
        className="jp-mlops-Button jp-mod-accept"
        data-testid="mlops-promote-accept"
        onClick={props.onYes}
      >
        Promote v{props.version}
      </button>
      <button className="jp-mlops-Button" data-testid="mlops-promote-cancel" onClick={props.onNo}>
        Cancel
      </button>
    </div>
  );
}

const OUTCOME_ICONS: Record<PromotionOutcome['kind'], string> = {
  promoted: '✓',
  rejected: '✗',
  failed: '✗'
};

function Outcome(props: { outcome: PromotionOutcome; onForce: () => void }) {
  const { outcome } = props;
  return (
    <div
      className="jp-mlops-PromoteOutcome"
      data-testid="mlops-promote-outcome"
      data-outcome={outcome.kind}
      data-gate={outcome.kind === 'promoted' ? outcome.gate : 'rejected'}
      role="status"
    >
      {OUTCOME_ICONS[outcome.kind]} {outcome.text}
      {outcome.kind === 'rejected' && (
        <button
          className="jp-mlops-LinkButton"
          data-testid="mlops-promote-force"
          onClick={props.onForce}
        >
          Promote anyway
        </button>
      )}
    </div>
  );
}

export function PromoteControl(props: IPromoteProps): JSX.Element {
  const [phase, setPhase] = React.useState<Phase>({ step: 'idle' });
  const movedAway = phase.step === 'done' && phase.outcome.kind === 'promoted' && !props.current;
  React.useEffect(() => {
    if (movedAway) {
      setPhase({ step: 'idle' }); // the alias went to another version since: the news is old
    }
  }, [movedAway]);
  const send = async (force: boolean) => {
    setPhase({ step: 'busy' });
    const result = await props.onPromote(props.model, props.version, props.alias, force);
    setPhase({ step: 'done', outcome: promotionOutcome(result) });
  };
  return (
    <div className="jp-mlops-Promote">
      {phase.step === 'confirm' ? (
        <Confirm
          {...props}
          onYes={() => void send(false)}
          onNo={() => setPhase({ step: 'idle' })}
        />
      ) : (
        !props.current && (
          <button
            className="jp-mlops-LinkButton"
            data-testid="mlops-model-promote"
            disabled={phase.step === 'busy'}
            onClick={() => setPhase({ step: 'confirm' })}
          >
            {phase.step === 'busy' ? 'Promoting…' : `Promote to @${props.alias}…`}
          </button>
        )
      )}
      {phase.step === 'done' && <Outcome outcome={phase.outcome} onForce={() => void send(true)} />}
    </div>
  );
}
