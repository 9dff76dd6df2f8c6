/**
 * The steps list: one row per step with its state and duration (fixed-width columns, so
 * a run's updates never move anything), inputs ← producer, outputs (every variable it
 * hands on or keeps as a result, "nothing kept" when none), parameters and any extraction
 * error. The step name is a button that goes to the step's cell.
 */

import * as React from 'react';

import { formatSeconds } from '../core/format';
import { IStepRow } from '../core/pipeline';
import { stepLook } from '../core/stepStates';
import { IStepStatus } from '../core/types';

export interface IStepsViewProps {
  rows: IStepRow[];
  statuses: Record<string, IStepStatus | undefined>;
  onSelect: (step: string) => void;
}

function Field(props: {
  label: string;
  testid: string;
  items: React.ReactNode[];
  /** Shown (muted) when there are no items; without it the field is left out. */
  none?: string;
}) {
  if (!props.items.length && props.none === undefined) {
    return null;
  }
  return (
    <div className="jp-mlops-StepField" data-testid={props.testid}>
      <span className="jp-mlops-StepFieldLabel">{props.label}</span>
      <span className="jp-mlops-StepFieldValue">
        {!props.items.length && <span className="jp-mlops-StepFieldNone">{props.none}</span>}
        {props.items.map((item, i) => (
          <React.Fragment key={i}>
            {i > 0 && ', '}
            {item}
          </React.Fragment>
        ))}
      </span>
    </div>
  );
}

function StepItem(props: {
  row: IStepRow;
  status: IStepStatus | undefined;
  onSelect: (step: string) => void;
}) {
  const { row, status } = props;
  const look = stepLook(status?.state, row.errors.length > 0);
  const duration =
    status && (status.state === 'ran' || status.state === 'failed' || status.state === 'running')
      ? formatSeconds(status.seconds)
      : '';
  return (
    <li
      className="jp-mlops-Step"
      data-testid="mlops-step"
      data-step={row.name}
      data-state={look.state}
    >
      <div className="jp-mlops-StepHead">
        <span className="jp-mlops-StepDot" data-testid="mlops-step-icon" aria-hidden="true">
          {look.icon}
        </span>
        <button
          className="jp-mlops-StepName"
          data-testid="mlops-step-name"
          title={`${row.name}: go to cell ${row.cell}`}
          aria-label={`step ${row.name}, cell ${row.cell}: go to the cell`}
          onClick={() => props.onSelect(row.name)}
        >
          {row.name}
        </button>
        <span className="jp-mlops-StepStatus" data-testid="mlops-step-status">
          {look.label}
        </span>
        <span className="jp-mlops-StepDuration" data-testid="mlops-step-duration">
          {duration}
        </span>
      </div>
      <Field
        label="in"
        testid="mlops-step-inputs"
        items={row.inputs.map(i => (
          <span key={i.variable}>
            <code>{i.variable}</code> ← {i.producer}
          </span>
        ))}
      />
      <Field
        label="out"
        testid="mlops-step-outputs"
        none={row.errors.length ? undefined : 'nothing kept'}
        items={row.outputs.map(o => (
          <code key={o}>{o}</code>
        ))}
      />
      <Field
        label="params"
        testid="mlops-step-params"
        items={row.params.map(p => (
          <code key={p}>{p}</code>
        ))}
      />
      {row.errors.map((message, i) => (
        <div key={i} className="jp-mlops-StepError" data-testid="mlops-step-error" role="alert">
          {message}
        </div>
      ))}
    </li>
  );
}

export function StepsView(props: IStepsViewProps): JSX.Element {
  return (
    <ol
      className={
        'jp-mlops-Steps' +
        (Object.keys(props.statuses).length || props.rows.some(r => r.errors.length)
          ? ' jp-mod-status'
          : '')
      }
      data-testid="mlops-steps"
      aria-label="Pipeline steps"
    >
      {props.rows.map(row => (
        <StepItem
          key={row.name + ':' + row.cell}
          row={row}
          status={props.statuses[row.name]}
          onSelect={props.onSelect}
        />
      ))}
    </ol>
  );
}
