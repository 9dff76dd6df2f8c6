/**
 * A JupyterLab notification when a run of an open notebook ends, wherever it was started:
 * a success with its duration and metrics, a failure naming the failed step and the error
 * with "Open failing cell" (the notebook activated, the step's `%%mlstep` cell made active,
 * its traceback shown under it).
 */

import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { LiveRunEvent, LiveRuns } from '../core/liveRuns';
import { runEndMessage } from '../core/liveText';
import { stepCell } from '../core/stepBadges';
import { ILiveRunJSON } from '../core/types';
import { cellTexts, goToCell } from './notebook';

/** How long a success stays on screen; failures stay until dismissed. */
export const SUCCESS_NOTICE_MS = 10000;

/** The notebook at `path`: its open tab, else opened. */
async function notebookAt(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  path: string
): Promise<NotebookPanel | null> {
  const open = tracker.find(panel => panel.context.localPath === path);
  if (open) {
    return open;
  }
  const opened = await app.commands.execute('docmanager:open', { path });
  return opened instanceof NotebookPanel ? opened : null;
}

/**
 * Activate the notebook at `path` and make step `step`'s cell the active cell; `reveal`
 * then shows what belongs under the cell (its traceback). False when no cell has the step.
 */
export async function openStepCell(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  path: string,
  step: string,
  reveal: (panel: NotebookPanel, cell: number) => void = () => undefined
): Promise<boolean> {
  const panel = await notebookAt(app, tracker, path);
  if (!panel) {
    return false;
  }
  app.shell.activateById(panel.id);
  await panel.context.ready;
  const sources = cellTexts(panel).map(c => (c.type === 'code' ? c.source : ''));
  const cell = stepCell(sources, step);
  if (cell === null) {
    return false;
  }
  await goToCell(panel, cell);
  reveal(panel, cell);
  return true;
}

export interface IRunNotificationsOptions {
  app: JupyterFrontEnd;
  tracker: INotebookTracker;
  live: LiveRuns;
  /** The panel's id (the notification's "Show panel"). */
  panelId: string;
  /** Show the traceback under cell `cell` of `panel` and scroll it into view. */
  reveal: (panel: NotebookPanel, cell: number) => void;
}

export class RunNotifications {
  constructor(private readonly options: IRunNotificationsOptions) {
    options.live.events.connect(this.onEvent, this);
  }

  private onEvent(_: LiveRuns, event: LiveRunEvent): void {
    if (event.type === 'ended') {
      this.notify(event.path, event.run);
    }
  }

  /** The notification of `run` (of the notebook at `path`), which just ended. */
  notify(path: string, run: ILiveRunJSON): string {
    const { app, tracker, panelId, reveal } = this.options;
    const message = runEndMessage(run);
    const showPanel: Notification.IAction = {
      label: 'Show panel',
      caption: 'Open the MLOps panel',
      callback: () => app.shell.activateById(panelId)
    };
    if (run.status === 'succeeded') {
      return Notification.success(message, {
        autoClose: SUCCESS_NOTICE_MS,
        actions: [showPanel]
      });
    }
    if (run.status !== 'failed') {
      return Notification.info(message, { autoClose: SUCCESS_NOTICE_MS, actions: [showPanel] });
    }
    const step = run.failed_step;
    const actions: Notification.IAction[] = step
      ? [
          {
            label: 'Open failing cell',
            caption: `Go to the %%mlstep ${step} cell and show its traceback`,
            displayType: 'accent',
            callback: () => void openStepCell(app, tracker, path, step, reveal)
          },
          showPanel
        ]
      : [showPanel];
    return Notification.error(message, { autoClose: false, actions });
  }

  dispose(): void {
    this.options.live.events.disconnect(this.onEvent, this);
  }
}
