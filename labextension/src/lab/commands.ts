/**
 * The plugin's commands (in the palette under "MLOps"; toggle-step is also in the cell
 * toolbar and the cell context menu, via schema/plugin.json).
 */

import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { PanelModel } from '../core/model';
import { stepIcon } from './icon';
import { activeCellIsStep, markCell, markContext, unmarkCell } from './notebook';
import { askStepName } from './stepDialog';

export const CommandIDs = {
  toggleStep: 'jupyter-mlops:toggle-step',
  openPanel: 'jupyter-mlops:open-panel',
  refresh: 'jupyter-mlops:refresh',
  extract: 'jupyter-mlops:extract',
  run: 'jupyter-mlops:run',
  openDag: 'jupyter-mlops:open-dag'
};

/** The notebook a command acts on; from the cell context menu, the right-clicked cell is made active. */
function targetNotebook(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  args: ReadonlyPartialJSONObject
): NotebookPanel | null {
  const panel = tracker.currentWidget;
  if (panel && args.origin === 'context-menu') {
    const node = app.contextMenuHitTest(n => n.classList.contains('jp-Cell'));
    const index = panel.content.widgets.findIndex(cell => cell.node === node);
    if (index >= 0 && index !== panel.content.activeCellIndex) {
      panel.content.activeCellIndex = index;
    }
  }
  return panel;
}

/** Unmark the active cell when it is a step; otherwise ask for a name and mark it. */
async function toggleStep(panel: NotebookPanel | null): Promise<void> {
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
}

export interface ICommandsOptions {
  tracker: INotebookTracker;
  model: PanelModel;
  /** The id of the panel widget (open-panel activates it). */
  panelId: string;
  palette: ICommandPalette | null;
  /** Show the DAG in a main-area tab. */
  openDag: () => void;
}

/** Add the commands (and their palette items when there is a palette). */
export function registerCommands(app: JupyterFrontEnd, options: ICommandsOptions): void {
  const { tracker, model, panelId, palette, openDag } = options;
  const target = (args: ReadonlyPartialJSONObject) => targetNotebook(app, tracker, args);

  app.commands.addCommand(CommandIDs.toggleStep, {
    label: args =>
      activeCellIsStep(target(args)) ? 'Unmark Pipeline Step' : 'Mark Cell as Pipeline Step',
    caption: 'Add or remove the %%mlstep line that makes this cell a pipeline step',
    icon: stepIcon,
    isEnabled: args => target(args)?.content.activeCell?.model.type === 'code',
    execute: args => toggleStep(target(args))
  });
  app.commands.addCommand(CommandIDs.openPanel, {
    label: 'Show MLOps Pipeline Panel',
    execute: () => app.shell.activateById(panelId)
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
  app.commands.addCommand(CommandIDs.openDag, {
    label: 'Open Pipeline DAG in Main Area',
    execute: () => openDag()
  });
  tracker.activeCellChanged.connect(() => app.commands.notifyCommandChanged(CommandIDs.toggleStep));
  if (palette) {
    for (const command of Object.values(CommandIDs)) {
      palette.addItem({ command, category: 'MLOps' });
    }
  }
}
