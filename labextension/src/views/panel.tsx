/**
 * The right-side panel widget of jupyter_mlops (a `SidePanel` holding one React view of
 * the `PanelModel`, then the sections other plugins add through the `IMlopsPanel` token,
 * which this widget implements).
 *
 * Stable hooks for browser tests (all `data-testid` unless said otherwise):
 *   panel                 #jupyter-mlops-panel (class jp-mlops-Panel); tab caption "MLOps pipeline"
 *   mlops-server-status   banner when the server extension is missing / of another version /
 *                         unreachable; data-state = missing | mismatch | unreachable
 *   mlops-empty           empty state; data-reason = no-notebook | no-steps
 *   mlops-mark-cell       button in the no-steps state: mark the active cell as a step
 *   mlops-notebook        the notebook followed (its name wraps; the full path is its title);
 *                         data-scan = idle | scanning | ok | errors | failed
 *   mlops-panel-section   a section of the panel's own (data-section = run | dag | steps |
 *                         models), each with its heading mlops-heading (h3; the sections of
 *                         other plugins have one too); the panel opens 400 px wide at a
 *                         1280 px window, 480 px at 1920 (core/panelWidth.ts), once
 *   mlops-scan-error      the scan request failed (message)
 *   mlops-errors          extraction errors that belong to no step
 *   mlops-steps           the steps list (ol); one mlops-step (li) per step with
 *                         data-step = NAME and data-state = none | waiting | running | ran |
 *                         cached | failed | not_run | cancelled | error; inside it:
 *                         mlops-step-icon (the state icon), mlops-step-name (button: goes
 *                         to the cell), mlops-step-status,
 *                         mlops-step-duration, mlops-step-inputs, mlops-step-outputs,
 *                         mlops-step-params, mlops-step-error
 *   mlops-dag-box         the DAG with its head: mlops-dag-open (button: open the DAG in a
 *                         main-area tab, #jupyter-mlops-dag holding mlops-dag-main),
 *                         mlops-dag-note (while extraction fails: the graph is the last good
 *                         one); beside the steps list when the panel is wider than 700 px
 *   mlops-dag             the DAG <svg> (data-stale = true while extraction fails); boxes are
 *                         g.jp-mlops-DagNode[data-step=NAME][data-state] (the steps list's
 *                         states; role=button: click/Enter goes to the cell) with their state
 *                         icon mlops-dag-icon; edges path.jp-mlops-DagEdge[data-from][data-to],
 *                         their labels g.jp-mlops-DagLabel[data-from][data-to] (the variables)
 *   mlops-extract         Extract button; mlops-extract-message its result on one line
 *                         (data-failed; the whole text is its title), mlops-extract-files the
 *                         "N files changed" <details> listing mlops-extract-file buttons
 *                         (data-path = the file, relative to the server root: opens it)
 *   mlops-params          parameters form (<details>, data-running while a run goes on:
 *                         mlops-params-running "values of the running run", read-only);
 *                         mlops-params-changed "N changed"; mlops-params-reset; one
 *                         mlops-param-field[data-param=NAME][data-changed] per parameter with
 *                         input mlops-param[data-param][data-type = int | float | bool | str |
 *                         list | any][aria-invalid], mlops-param-changed, mlops-param-error
 *   mlops-run             Run button; mlops-cancel Cancel button; mlops-run-blocked "Run
 *                         disabled: <reason>" while a parameter is invalid
 *   mlops-run-status      run status line; data-phase = idle | starting | running |
 *                         cancelling | succeeded | failed | cancelled | error
 *   mlops-run-link        the MLflow run: first 12 characters shown, data-run-id = the full
 *                         id (a link when the mlflowUiUrl setting is set)
 *   mlops-run-model-version  "model version N" registered by the run
 *   mlops-run-log         the run's log tail (<pre> in a <details>)
 *   mlops-no-model-step   in place of the Models section when no step registers a model
 *   mlops-models          Models section; mlops-models-reload; mlops-models-empty;
 *                         mlops-model[data-model=NAME] per model when there are several;
 *                         mlops-model-version[data-version=N] with mlops-model-label
 *                         ("<model> · step <step>"), mlops-model-alias[data-alias=NAME],
 *                         mlops-metrics, mlops-model-gate[data-gate], mlops-model-promote
 *                         (button) → mlops-promote-confirm (mlops-promote-accept,
 *                         mlops-promote-cancel) → mlops-promote-outcome[data-outcome =
 *                         promoted | rejected | failed] (mlops-promote-force on rejected)
 *   mlops-history         Recent runs (live records and MLflow runs, newest first);
 *                         mlops-history-run[data-status][data-run-id][data-source] with
 *                         mlops-run-select (checkbox), mlops-run-date (title: full time),
 *                         mlops-run-duration, mlops-run-source, mlops-run-error,
 *                         mlops-run-version, mlops-run-params > mlops-run-param[data-param]
 *                         [data-changed], mlops-metrics, mlops-run-vs[data-alias],
 *                         mlops-run-rerun; mlops-compare-hint (one ticked); mlops-compare
 *                         (two ticked): mlops-compare-param[data-param][data-differs],
 *                         mlops-compare-metric[data-metric][data-verdict], mlops-compare-close
 *   mlops-section         a section added by another plugin (IMlopsPanel.addSection), below
 *                         the panel's own content in rank order; data-section = its id
 * Step-name dialog (command jupyter-mlops:toggle-step, also in the cell toolbar
 * [data-command=jupyter-mlops:toggle-step] and the cell context menu):
 *   mlops-step-name-input, mlops-step-name-error; accept with the dialog's .jp-mod-accept.
 * On notebook cells: .jp-mlops-CellError (data-testid mlops-cell-error) under a cell that
 * has extraction errors; the cell gets class jp-mlops-mod-error.
 * Live runs (lab/runIndicators.ts, lab/cellBadges.ts): mlops-run-from "from CLI" in the run
 * status line; the panel's side-bar tab gets class jp-mlops-mod-running (caption "…
 * (jupyter_mlops: run going)") and the status bar mlops-status-item "mlops: NAME ▶ 3/5
 * steps" while a run of an open notebook goes on; under each step cell's editor
 * mlops-cell-badge[data-step][data-state]; under a failed step's cell mlops-cell-traceback
 * (its text mlops-cell-traceback-text, a Hide button).
 */

import { ISignal, Signal } from '@lumino/signaling';
import { Panel } from '@lumino/widgets';
import { ReactWidget, SidePanel, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { pipelineIcon } from '../lab/icon';
import { PanelModel } from '../core/model';
import { ISectionHandle, SectionRegistry } from '../core/sections';
import { IPanelState } from '../core/state';
import { IMlopsPanel, IMlopsPanelSection } from '../tokens';
import { IPanelActions, PanelView } from './panelView';
import { SectionWidget } from './sections';

export const PANEL_ID = 'jupyter-mlops-panel';

export class MlopsPanel extends SidePanel implements IMlopsPanel {
  private readonly registry = new SectionRegistry<IMlopsPanelSection>();
  private readonly sectionWidgets = new Map<IMlopsPanelSection, SectionWidget>();
  private readonly _stateChanged = new Signal<IMlopsPanel, IPanelState>(this);
  private readonly _shown = new Signal<this, void>(this);

  constructor(
    readonly model: PanelModel,
    actions: IPanelActions,
    runUrl: () => (runId: string) => string | null
  ) {
    super({ content: new Panel() });
    this.id = PANEL_ID;
    this.addClass('jp-mlops-Panel');
    this.title.icon = pipelineIcon;
    this.title.caption = 'MLOps pipeline';
    const view = ReactWidget.create(
      <UseSignal signal={model.changed} initialArgs={model.state}>
        {(_, state) => (
          <PanelView state={state as IPanelState} actions={actions} runUrl={runUrl()} />
        )}
      </UseSignal>
    );
    view.addClass('jp-mlops-View');
    this.addWidget(view);
    model.changed.connect(this.onModelChanged, this);
    this.registry.changed.connect(this.layoutSections, this);
  }

  get state(): IPanelState {
    return this.model.state;
  }

  get stateChanged(): ISignal<IMlopsPanel, IPanelState> {
    return this._stateChanged;
  }

  /** Emitted each time the panel becomes visible. */
  get shown(): ISignal<this, void> {
    return this._shown;
  }

  protected onAfterShow(msg: Parameters<Panel['processMessage']>[0]): void {
    super.onAfterShow(msg);
    this._shown.emit();
  }

  addSection(section: IMlopsPanelSection): ISectionHandle {
    return this.registry.add(section);
  }

  private onModelChanged(_: PanelModel, state: IPanelState): void {
    this._stateChanged.emit(state);
  }

  /** Show the registered sections, in their order, below the panel's own view. */
  private layoutSections(_: unknown, sections: readonly IMlopsPanelSection[]): void {
    for (const [section, widget] of this.sectionWidgets) {
      if (!sections.includes(section)) {
        this.sectionWidgets.delete(section);
        widget.dispose();
      }
    }
    sections.forEach((section, index) => {
      let widget = this.sectionWidgets.get(section);
      if (!widget) {
        widget = new SectionWidget(section, () => this.model.state, this.model.changed);
        this.sectionWidgets.set(section, widget);
      }
      // After the panel's own view (index 0); moves a widget already in the panel.
      this.content.insertWidget(index + 1, widget);
    });
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.registry.dispose();
    this.sectionWidgets.clear();
    Signal.clearData(this);
    super.dispose();
  }
}
