/**
 * Feeds the panel model the current notebook: follows the tracker's current widget, asks
 * for a (debounced) rescan on every content change, re-follows on rename, and keeps the
 * extraction errors shown under the followed notebook's cells.
 */

import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { PanelModel } from '../core/model';
import { notebookHandle, showCellErrors } from './notebook';

export class NotebookFollower {
  private followed: NotebookPanel | null = null;
  private readonly onContent = () => this.model.notebookChanged();
  private readonly onRename = () =>
    this.followed && void this.model.setNotebook(notebookHandle(this.followed));

  constructor(
    private readonly tracker: INotebookTracker,
    private readonly model: PanelModel
  ) {
    tracker.currentChanged.connect(this.onCurrentChanged, this);
    model.changed.connect(this.onModelChanged, this);
  }

  /** The notebook followed now (null when none is current). */
  get notebook(): NotebookPanel | null {
    return this.followed;
  }

  /** Start with the tracker's current notebook. */
  start(): Promise<void> {
    return this.follow(this.tracker.currentWidget);
  }

  /** Follow `notebook` (null: none), once its context is ready. */
  async follow(notebook: NotebookPanel | null): Promise<void> {
    const previous = this.followed;
    previous?.context.model.contentChanged.disconnect(this.onContent);
    previous?.context.pathChanged.disconnect(this.onRename);
    if (previous && !previous.isDisposed) {
      showCellErrors(previous, new Map()); // its errors are no longer kept up to date
    }
    this.followed = notebook;
    if (!notebook) {
      await this.model.setNotebook(null);
      return;
    }
    await notebook.context.ready;
    if (this.followed !== notebook) {
      return;
    }
    notebook.context.model.contentChanged.connect(this.onContent);
    notebook.context.pathChanged.connect(this.onRename);
    await this.model.setNotebook(notebookHandle(notebook));
  }

  private onCurrentChanged(_: INotebookTracker, notebook: NotebookPanel | null): void {
    void this.follow(notebook);
  }

  private onModelChanged(): void {
    const followed = this.followed;
    if (followed && !followed.isDisposed) {
      showCellErrors(followed, this.model.cellErrors);
    }
  }
}
