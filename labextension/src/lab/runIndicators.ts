/**
 * Signs in JupyterLab that a run of an open notebook is going on, even with the panel
 * closed: a dot on the panel's side-bar tab (its caption says "jupyter_mlops: run going")
 * and, when there is a status bar, an item "mlops: classification ▶ 3/5 steps" that opens
 * the panel.
 */

import { JupyterFrontEnd } from '@jupyterlab/application';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ISignal, Signal } from '@lumino/signaling';
import { Title, Widget } from '@lumino/widgets';

import { LiveRuns } from '../core/liveRuns';
import { statusItemText, statusItemTitle } from '../core/liveText';
import { ILiveRunJSON } from '../core/types';

export const RUNNING_CLASS = 'jp-mlops-mod-running';
export const RUNNING_CAPTION = 'jupyter_mlops: run going';
export const STATUS_ITEM_ID = 'jupyter-mlops:run-status';

/** The status-bar item: a button-like text that opens the panel. */
class RunStatusItem extends Widget {
  constructor(onOpen: () => void) {
    super({ node: document.createElement('button') });
    this.addClass('jp-mlops-StatusItem');
    this.node.dataset.testid = 'mlops-status-item';
    this.node.addEventListener('click', onOpen);
  }

  setRuns(running: readonly ILiveRunJSON[]): void {
    const text = statusItemText(running);
    if (this.node.textContent !== text) {
      this.node.textContent = text;
    }
    this.node.title = statusItemTitle(running);
    this.node.setAttribute('aria-label', `${text}. Open the MLOps panel`);
  }
}

export class RunIndicators {
  private readonly item: RunStatusItem;
  private readonly _activeChanged = new Signal<this, void>(this);
  private going = false;
  private readonly caption: string;

  constructor(
    app: JupyterFrontEnd,
    private readonly live: LiveRuns,
    private readonly panelTitle: Title<Widget>,
    panelId: string,
    statusBar: IStatusBar | null
  ) {
    this.caption = panelTitle.caption;
    this.item = new RunStatusItem(() => app.shell.activateById(panelId));
    if (statusBar) {
      statusBar.registerStatusItem(STATUS_ITEM_ID, {
        item: this.item,
        align: 'left',
        rank: 900,
        isActive: () => this.going,
        activeStateChanged: this._activeChanged as ISignal<unknown, void>
      });
    }
    live.changed.connect(this.update, this);
    this.update();
  }

  /** Show the runs going on now (none: hide the signs). */
  update(): void {
    const running = this.live.running().map(found => found.run);
    const going = running.length > 0;
    this.item.setRuns(running);
    this.panelTitle.className = toggled(this.panelTitle.className, RUNNING_CLASS, going);
    this.panelTitle.caption = going ? `${this.caption} (${RUNNING_CAPTION})` : this.caption;
    if (going !== this.going) {
      this.going = going;
      this._activeChanged.emit();
    }
  }

  dispose(): void {
    this.live.changed.disconnect(this.update, this);
    this.item.dispose();
  }
}

/** `classes` with `name` added or removed. */
function toggled(classes: string, name: string, on: boolean): string {
  const others = classes.split(/\s+/).filter(c => c && c !== name);
  return [...others, ...(on ? [name] : [])].join(' ');
}
