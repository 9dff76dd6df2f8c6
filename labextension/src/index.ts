/**
 * The JupyterLab plugin: the right-side panel following the active notebook, and the
 * commands (palette, cell toolbar and cell context menu via schema/plugin.json).
 */

import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { MlopsApi } from './api';
import { mlflowRunUrl } from './format';
import { stepIcon } from './icon';
import { PanelModel } from './model';
import {
  activeCellIsStep,
  goToCell,
  markCell,
  markContext,
  notebookHandle,
  showCellErrors,
  unmarkCell
} from './notebook';
import { MlopsPanel } from './panel';
import { askStepName } from './stepDialog';

const PLUGIN_ID = 'jupyter-mlops:plugin';

export const CommandIDs = {
  toggleStep: 'jupyter-mlops:toggle-step',
  openPanel: 'jupyter-mlops:open-panel',
  refresh: 'jupyter-mlops:refresh',
  extract: 'jupyter-mlops:extract',
  run: 'jupyter-mlops:run'
};

function activate(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  restorer: ILayoutRestorer | null,
  palette: ICommandPalette | null,
  settings: ISettingRegistry | null
): void {
  const model = new PanelModel(new MlopsApi());
  let mlflowUi = '';
  const current = (): NotebookPanel | null => tracker.currentWidget;

  /** From the cell context menu: act on the cell that was right-clicked. */
  const targetCell = (args: ReadonlyPartialJSONObject): NotebookPanel | null => {
    const panel = current();
    if (panel && args.origin === 'context-menu') {
      const node = app.contextMenuHitTest(n => n.classList.contains('jp-Cell'));
      const index = panel.content.widgets.findIndex(cell => cell.node === node);
      if (index >= 0 && index !== panel.content.activeCellIndex) {
        panel.content.activeCellIndex = index;
      }
    }
    return panel;
  };

  const toggleStep = async (args: ReadonlyPartialJSONObject): Promise<void> => {
    const panel = targetCell(args);
    if (!panel) {
      return;
    }
    if (activeCellIsStep(panel)) {
      unmarkCell(panel);
      return;
    }
    const context = markContext(panel);
    if (!context) {
      return;
    }
    const note = context.needsLoadExt
      ? 'The notebook does not load the %%mlstep magic yet: a "%load_ext jupyter_mlops" cell will be added above the first code cell.'
      : null;
    const name = await askStepName(context.proposed, context.otherSteps, note);
    if (name !== null && panel.content.activeCell === context.cell) {
      markCell(panel, context, name);
    }
  };

  const actions = {
    selectStep: (step: string) => {
      const panel = current();
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
    markCell: () => void app.commands.execute(CommandIDs.toggleStep)
  };
  const runUrl = () => (runId: string) =>
    mlflowRunUrl(mlflowUi, model.state.history?.experiment_id ?? null, runId);
  const panel = new MlopsPanel(model, actions, runUrl);
  app.shell.add(panel, 'right', { rank: 600 });
  restorer?.add(panel, 'jupyter-mlops');

  // Follow the current notebook; rescan (debounced) on every change of its content.
  let followed: NotebookPanel | null = null;
  const onContent = () => model.notebookChanged();
  const onRename = () => followed && void model.setNotebook(notebookHandle(followed));
  const follow = async (notebook: NotebookPanel | null) => {
    followed?.context.model.contentChanged.disconnect(onContent);
    followed?.context.pathChanged.disconnect(onRename);
    if (followed && !followed.isDisposed) {
      showCellErrors(followed, new Map()); // its errors are no longer kept up to date
    }
    followed = notebook;
    if (!notebook) {
      await model.setNotebook(null);
      return;
    }
    await notebook.context.ready;
    if (followed !== notebook) {
      return;
    }
    notebook.context.model.contentChanged.connect(onContent);
    notebook.context.pathChanged.connect(onRename);
    await model.setNotebook(notebookHandle(notebook));
  };
  tracker.currentChanged.connect((_, notebook) => void follow(notebook));
  model.changed.connect(() => {
    if (followed && !followed.isDisposed) {
      showCellErrors(followed, model.cellErrors);
    }
  });

  app.commands.addCommand(CommandIDs.toggleStep, {
    label: args =>
      activeCellIsStep(targetCell(args)) ? 'Unmark Pipeline Step' : 'Mark Cell as Pipeline Step',
    caption: 'Add or remove the %%mlstep line that makes this cell a pipeline step',
    icon: stepIcon,
    isEnabled: args => targetCell(args)?.content.activeCell?.model.type === 'code',
    execute: toggleStep
  });
  app.commands.addCommand(CommandIDs.openPanel, {
    label: 'Show MLOps Pipeline Panel',
    execute: () => app.shell.activateById(panel.id)
  });
  app.commands.addCommand(CommandIDs.refresh, {
    label: 'Rescan Pipeline Steps',
    execute: () => model.refresh(true)
  });
  app.commands.addCommand(CommandIDs.extract, {
    label: 'Extract Pipeline',
    isEnabled: () => model.state.scan === 'ok',
    execute: () => model.extract()
  });
  app.commands.addCommand(CommandIDs.run, {
    label: 'Run Pipeline',
    isEnabled: () => model.state.scan === 'ok',
    execute: () => model.run()
  });
  tracker.activeCellChanged.connect(() => app.commands.notifyCommandChanged(CommandIDs.toggleStep));
  if (palette) {
    for (const command of Object.values(CommandIDs)) {
      palette.addItem({ command, category: 'MLOps' });
    }
  }

  if (settings) {
    void settings.load(PLUGIN_ID).then(loaded => {
      const read = () => {
        mlflowUi = String(loaded.get('mlflowUiUrl').composite ?? '');
        model.notify();
      };
      read();
      loaded.changed.connect(read);
    });
  }
  void follow(tracker.currentWidget);
  void model.checkServer();
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Side panel of jupyter_mlops: pipeline steps, DAG, extract, run, models.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILayoutRestorer, ICommandPalette, ISettingRegistry],
  activate
};

export default plugin;
