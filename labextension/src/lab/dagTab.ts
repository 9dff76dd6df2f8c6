/**
 * The "Open in main area" view of the DAG: one closable main-area tab following the
 * panel's state; opening it again activates the tab already open.
 */

import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import { PanelModel } from '../core/model';
import { dagMainContent } from '../views/dagMain';
import { pipelineIcon } from './icon';
import { goToCell } from './notebook';

export const DAG_TAB_ID = 'jupyter-mlops-dag';

export class DagTab {
  private widget: MainAreaWidget<Widget> | null = null;

  constructor(
    private readonly app: JupyterFrontEnd,
    private readonly tracker: INotebookTracker,
    private readonly model: PanelModel
  ) {}

  /** Show the tab (created on first use, again after it was closed). */
  open(): void {
    if (!this.widget || this.widget.isDisposed) {
      this.widget = this.create();
      this.app.shell.add(this.widget, 'main', { mode: 'split-right' });
    }
    this.app.shell.activateById(this.widget.id);
  }

  private create(): MainAreaWidget<Widget> {
    const content = dagMainContent(this.model.state, this.model.changed, step => this.select(step));
    const widget = new MainAreaWidget({ content });
    widget.id = DAG_TAB_ID;
    widget.title.label = 'Pipeline DAG';
    widget.title.caption = 'The pipeline steps of the notebook followed by the MLOps panel';
    widget.title.icon = pipelineIcon;
    widget.title.closable = true;
    return widget;
  }

  /** Go to the step's cell in the notebook the panel follows. */
  private select(step: string): void {
    const panel = this.tracker.currentWidget;
    const row = this.model.state.rows.find(r => r.name === step);
    if (panel && row) {
      this.app.shell.activateById(panel.id);
      void goToCell(panel, row.cell);
    }
  }
}
