/**
 * Keeps the live runs store on the open notebooks (every notebook tab, renamed ones
 * followed), pauses its polls while the browser tab is hidden, and feeds the panel model
 * the runs of the notebook it follows.
 */

import { JupyterFrontEnd } from '@jupyterlab/application';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';
import { Widget } from '@lumino/widgets';

import { ILiveRunsApi, LiveRuns } from '../core/liveRuns';
import { PanelModel } from '../core/model';
import { CellBadges } from './cellBadges';
import { RunIndicators } from './runIndicators';
import { RunNotifications } from './runNotifications';

/** The server-relative paths of the open notebooks. */
export function openNotebookPaths(tracker: INotebookTracker): string[] {
  const paths: string[] = [];
  tracker.forEach(panel => {
    if (!panel.isDisposed && panel.context.isReady) {
      paths.push(panel.context.localPath);
    }
  });
  return paths;
}

/** Watch the runs of every open notebook while the page is visible. */
export function watchOpenNotebooks(tracker: INotebookTracker, live: LiveRuns): void {
  const update = () => live.watch(openNotebookPaths(tracker));
  const follow = (panel: NotebookPanel) => {
    void panel.context.ready.then(update);
    panel.context.pathChanged.connect(update);
    // the tracker forgets the panel after its disposed signal: look again once it has
    panel.disposed.connect(() => setTimeout(update, 0));
  };
  tracker.forEach(follow);
  tracker.widgetAdded.connect((_, panel) => follow(panel));
  document.addEventListener('visibilitychange', () =>
    live.setVisible(document.visibilityState !== 'hidden')
  );
  update();
}

/**
 * The panel shows the runs of its notebook started anywhere (the run view follows a new one,
 * Recent runs lists them): on every change of those runs, and those already known when it
 * follows another notebook or the server answers. A run the panel starts makes the store
 * poll fast at once (so the badges and the status item show it).
 */
export function feedPanel(model: PanelModel, live: LiveRuns): void {
  const show = (path: string) => {
    model.showRuns(path, live.runs(path));
    model.observeRuns(path, live.runs(path));
  };
  live.changed.connect((_, path) => show(path));
  let { notebook, server } = model.state;
  let phase = model.state.run.phase;
  model.changed.connect((_, state) => {
    if (state.run.phase === 'starting' && phase !== 'starting') {
      live.hurry();
    }
    phase = state.run.phase;
    if (state.notebook !== notebook || state.server !== server) {
      ({ notebook, server } = state);
      if (notebook !== null) {
        show(notebook);
      }
    }
  });
}

export interface ILiveRunsOptions {
  app: JupyterFrontEnd;
  tracker: INotebookTracker;
  model: PanelModel;
  /** The side panel (its tab gets the running dot). */
  panel: Widget;
  api: ILiveRunsApi;
  statusBar: IStatusBar | null;
}

/**
 * The live runs of the open notebooks and everything that shows them outside the panel's
 * own run view: notifications, the side-bar dot and status-bar item, the cell badges.
 */
export function startLiveRuns(options: ILiveRunsOptions): LiveRuns {
  const { app, tracker, model, panel, api, statusBar } = options;
  const live = new LiveRuns(api);
  const badges = new CellBadges(tracker, live);
  new RunNotifications({
    app,
    tracker,
    live,
    panelId: panel.id,
    reveal: (notebook, cell) => badges.reveal(notebook, cell)
  });
  new RunIndicators(app, live, panel.title, panel.id, statusBar);
  feedPanel(model, live);
  watchOpenNotebooks(tracker, live);
  return live;
}
