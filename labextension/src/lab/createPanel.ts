/**
 * The side panel in the shell: the view's actions wired to the model, the notebook and
 * the commands; run ids linked to the MLflow UI when the mlflowUiUrl setting is set. The
 * first time it is shown in this browser it opens at `openingWidth` (core/panelWidth.ts);
 * after that the side bar keeps the width the user gives it (saved with the layout).
 */

import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';

import { SplitLayout, SplitPanel, Widget } from '@lumino/widgets';

import { mlflowRunUrl } from '../core/format';
import { PanelModel } from '../core/model';
import { openingWidth, rightHandlePosition } from '../core/panelWidth';
import { MlopsPanel } from '../views/panel';
import { IPanelActions } from '../views/panelView';
import { CommandIDs } from './commands';
import { goToCell } from './notebook';
import { IPanelSettings } from './settings';

/** What the view's buttons do. */
export function panelActions(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  model: PanelModel
): IPanelActions {
  return {
    selectStep: (step: string) => {
      const panel = tracker.currentWidget;
      const row = model.state.rows.find(r => r.name === step);
      if (panel && row) {
        void goToCell(panel, row.cell);
      }
    },
    setParam: (name: string, text: string) => model.setParamText(name, text),
    resetParams: () => model.resetParams(),
    extract: () => void model.extract(),
    run: () => void model.run(),
    cancel: () => void model.cancel(),
    reloadRecords: () => void model.loadRecords(),
    retryServer: () => void model.checkServer(),
    markCell: () => void app.commands.execute(CommandIDs.toggleStep),
    openDag: () => void app.commands.execute(CommandIDs.openDag),
    rerun: (params: Record<string, string>) => void model.rerun(params),
    promote: (name, version, alias, force) => model.promote(name, version, alias, force),
    openFile: (path: string) => void app.commands.execute('docmanager:open', { path })
  };
}

/** Create the panel and add it to the right side of the shell (restored with the layout). */
export function createPanel(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  model: PanelModel,
  settings: IPanelSettings,
  restorer: ILayoutRestorer | null
): MlopsPanel {
  const runUrl = () => (runId: string) =>
    mlflowRunUrl(settings.mlflowUi, model.state.history?.experiment_id ?? null, runId);
  const panel = new MlopsPanel(model, panelActions(app, tracker, model), runUrl);
  app.shell.add(panel, 'right', { rank: 600 });
  restorer?.add(panel, 'jupyter-mlops');
  openAtWidthOnce(panel);
  return panel;
}

/** Set once the panel has been given its opening width in this browser. */
const WIDTH_SET_KEY = 'jupyter-mlops:panel-width-set';
/** What the main area (and a left side bar) keep at least when the panel widens. */
const MIN_LEFT = 300;

function widthAlreadySet(): boolean {
  try {
    return window.localStorage.getItem(WIDTH_SET_KEY) !== null;
  } catch {
    return true; // no storage: never override the layout JupyterLab restored
  }
}

function rememberWidthSet(): void {
  try {
    window.localStorage.setItem(WIDTH_SET_KEY, String(Date.now()));
  } catch {
    // nothing to remember it in
  }
}

/** Widen the right side bar holding `panel` to the opening width; false if not laid out. */
function applyOpeningWidth(panel: Widget): boolean {
  let child: Widget = panel;
  let split = panel.parent;
  while (split && !(split instanceof SplitPanel)) {
    child = split;
    split = split.parent;
  }
  const index = split ? split.widgets.indexOf(child) : -1;
  if (!split || index < 1 || index !== split.widgets.length - 1 || !split.node.clientWidth) {
    return false;
  }
  const width = openingWidth(window.innerWidth);
  const position = rightHandlePosition(split.node.clientWidth, width, split.spacing, MIN_LEFT);
  (split.layout as SplitLayout).moveHandle(index - 1, position);
  return true;
}

/** The first time `panel` is shown in this browser, give it its opening width. */
function openAtWidthOnce(panel: MlopsPanel): void {
  const onShown = () => {
    if (widthAlreadySet()) {
      panel.shown.disconnect(onShown);
      return;
    }
    // after the side area got its layout
    requestAnimationFrame(() => {
      if (!widthAlreadySet() && applyOpeningWidth(panel)) {
        rememberWidthSet();
      }
    });
  };
  panel.shown.connect(onShown);
}
