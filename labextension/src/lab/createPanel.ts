/**
 * The side panel in the shell: the view's actions wired to the model, the notebook and
 * the commands; run ids linked to the MLflow UI when the mlflowUiUrl setting is set.
 */

import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';

import { mlflowRunUrl } from '../core/format';
import { PanelModel } from '../core/model';
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
    openDag: () => void app.commands.execute(CommandIDs.openDag)
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
  return panel;
}
