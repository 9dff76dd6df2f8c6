/**
 * The DAG as a main-area tab: the followed notebook's step graph, redrawn on every change
 * of the panel's state (run states, extraction errors, another notebook).
 */

import { ISignal } from '@lumino/signaling';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { brokenSteps, dagInput } from '../core/pipeline';
import { IPanelState } from '../core/state';
import { StepState } from '../core/types';
import { DagView } from './dagView';

export interface IDagMainProps {
  state: IPanelState;
  onSelect: (step: string) => void;
}

export function DagMainView(props: IDagMainProps): JSX.Element {
  const { state } = props;
  const steps = React.useMemo(() => dagInput(state.rows), [state.rows]);
  const states: Record<string, StepState | undefined> =
    state.run.phase === 'idle'
      ? {}
      : Object.fromEntries(Object.entries(state.run.steps).map(([name, s]) => [name, s?.state]));
  return (
    <div className="jp-mlops-DagMainBody" data-testid="mlops-dag-main">
      <div className="jp-mlops-Notebook">
        <span className="jp-mlops-NotebookName">{state.notebook ?? 'No notebook is active.'}</span>
      </div>
      <DagView
        steps={steps}
        states={states}
        broken={brokenSteps(state.rows)}
        onSelect={props.onSelect}
      />
    </div>
  );
}

/** The React widget a `MainAreaWidget` holds: `DagMainView` following `changed`. */
export function dagMainContent(
  initial: IPanelState,
  changed: ISignal<unknown, IPanelState>,
  onSelect: (step: string) => void
): ReactWidget {
  const widget = ReactWidget.create(
    <UseSignal signal={changed} initialArgs={initial}>
      {(_, state) => <DagMainView state={state as IPanelState} onSelect={onSelect} />}
    </UseSignal>
  );
  widget.addClass('jp-mlops-DagMain');
  return widget;
}
