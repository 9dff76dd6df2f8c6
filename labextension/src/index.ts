/**
 * The JupyterLab plugin: the right-side panel following the active notebook, the commands
 * (palette, cell toolbar and cell context menu via schema/plugin.json), and the
 * `IMlopsPanel` service other plugins add sections to (tokens.ts).
 *
 * Layout of src/: core/ the panel's logic without Lumino widgets or the DOM (model, REST
 * client, parsers, DAG layout; jest tests in core/__tests__/), views/ the React views and
 * the panel widget, lab/ the JupyterLab glue (notebook, commands, dialogs, settings).
 */

import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IStateDB } from '@jupyterlab/statedb';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';

import { MlopsApi } from './core/api';
import { PanelModel } from './core/model';
import { ParamStore } from './core/paramForm';
import { registerCommands } from './lab/commands';
import { createPanel } from './lab/createPanel';
import { DagTab } from './lab/dagTab';
import { addDeploymentsSection } from './lab/deployments';
import { startLiveRuns } from './lab/liveWatch';
import { addMonitoringSection } from './lab/monitoring';
import { NotebookFollower } from './lab/notebookFollower';
import { followSettings, IPanelSettings } from './lab/settings';
import { IMlopsPanel } from './tokens';

export { CommandIDs } from './lab/commands';
export * from './tokens';

const PLUGIN_ID = 'jupyter-mlops:plugin';

function activate(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  restorer: ILayoutRestorer | null,
  palette: ICommandPalette | null,
  settingRegistry: ISettingRegistry | null,
  stateDB: IStateDB | null,
  statusBar: IStatusBar | null
): IMlopsPanel {
  const api = new MlopsApi();
  // the parameters form's edited values, per notebook, kept across page reloads
  const model = new PanelModel(api, undefined, new ParamStore(stateDB));
  const settings: IPanelSettings = { mlflowUi: '' };
  const panel = createPanel(app, tracker, model, settings, restorer);
  const follower = new NotebookFollower(tracker, model);
  const dagTab = new DagTab(app, tracker, model);
  registerCommands(app, {
    tracker,
    model,
    panelId: panel.id,
    palette,
    openDag: () => dagTab.open()
  });
  addDeploymentsSection(panel, api);
  addMonitoringSection(panel, api);
  if (settingRegistry) {
    void followSettings(settingRegistry, PLUGIN_ID, settings, () => model.notify());
  }
  // runs started anywhere: the panel follows them, notifications, badges, status bar
  startLiveRuns({ app, tracker, model, panel, api, statusBar });
  void follower.start();
  void model.checkServer();
  return panel;
}

const plugin: JupyterFrontEndPlugin<IMlopsPanel> = {
  id: PLUGIN_ID,
  description:
    'Side panel of jupyter_mlops: pipeline steps, DAG, extract, run, models, deployments, monitoring.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILayoutRestorer, ICommandPalette, ISettingRegistry, IStateDB, IStatusBar],
  provides: IMlopsPanel,
  activate
};

export default plugin;
