/**
 * The JupyterLab side of a notebook: wrap a NotebookPanel as the model's INotebookHandle,
 * go to a step's cell, show extraction errors on cells, mark / unmark the active cell.
 */

import { Cell } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';

import { INotebookHandle } from '../core/state';
import { headingAbove, stepsInSources } from '../core/pipeline';
import {
  identifiersIn,
  isStepSource,
  markSource,
  proposeStepName,
  unmarkSource
} from '../core/stepline';

const LOAD_EXT = '%load_ext jupyter_mlops';

/** The notebook as the model sees it: live content without outputs (they do not matter). */
export function notebookHandle(panel: NotebookPanel): INotebookHandle {
  const context = panel.context;
  return {
    get path() {
      return context.localPath;
    },
    content() {
      const json = context.model.toJSON() as {
        cells?: Record<string, unknown>[];
      };
      const cells = (json.cells ?? []).map(cell => {
        const { attachments: _attachments, ...rest } = cell;
        return cell.cell_type === 'code' ? { ...rest, outputs: [], execution_count: null } : rest;
      });
      return { ...json, cells };
    },
    cells: () => cellTexts(panel),
    get dirty() {
      return context.model.dirty;
    },
    save: () => context.save()
  };
}

/** Each cell's type and source, in order. */
export function cellTexts(panel: NotebookPanel): { type: string; source: string }[] {
  const cells = panel.content.model?.cells;
  const texts: { type: string; source: string }[] = [];
  for (let i = 0; i < (cells?.length ?? 0); i++) {
    const cell = cells!.get(i);
    texts.push({ type: cell.type, source: cell.sharedModel.getSource() });
  }
  return texts;
}

/** Make cell `number` (1-based) the active cell and scroll it into view. */
export async function goToCell(panel: NotebookPanel, number: number): Promise<void> {
  const notebook = panel.content;
  const index = number - 1;
  const cell = notebook.widgets[index];
  if (!cell) {
    return;
  }
  notebook.activeCellIndex = index;
  await notebook.scrollToCell(cell, 'center');
}

const ERROR_CLASS = 'jp-mlops-CellError';
const CELL_ERROR_MOD = 'jp-mlops-mod-error';

/** Show `errors` (messages per 1-based cell number) under their cells; clear the others. */
export function showCellErrors(panel: NotebookPanel, errors: Map<number, string[]>): void {
  panel.content.widgets.forEach((cell: Cell, index: number) => {
    const messages = errors.get(index + 1) ?? [];
    let box = cell.node.querySelector<HTMLElement>(`:scope > .${ERROR_CLASS}`);
    cell.toggleClass(CELL_ERROR_MOD, messages.length > 0);
    if (!messages.length) {
      box?.remove();
      return;
    }
    if (!box) {
      box = document.createElement('div');
      box.className = ERROR_CLASS;
      box.dataset.testid = 'mlops-cell-error';
      box.setAttribute('role', 'alert');
      cell.node.appendChild(box);
    }
    const text = messages.map(m => `jupyter_mlops: ${m}`).join('\n');
    if (box.textContent !== text) {
      box.textContent = text;
    }
  });
}

/** What marking the active cell needs to know: the proposal and the other steps' names. */
export interface IMarkContext {
  cell: Cell;
  proposed: string;
  otherSteps: string[];
  /** True when no code cell loads the extension yet (a `%load_ext` cell will be added). */
  needsLoadExt: boolean;
}

/** The active code cell's marking context, or null when the active cell is not code. */
export function markContext(panel: NotebookPanel): IMarkContext | null {
  const notebook = panel.content;
  const cell = notebook.activeCell;
  if (!cell || cell.model.type !== 'code') {
    return null;
  }
  const cells = cellTexts(panel);
  const index = notebook.activeCellIndex;
  const codes = cells.map((c, i) => (c.type === 'code' && i !== index ? c.source : ''));
  const otherSteps = stepsInSources(codes).map(s => s.name);
  const proposed = proposeStepName({
    source: cells[index].source,
    heading: headingAbove(cells, index),
    steps: otherSteps,
    avoid: identifiersIn(
      cells
        .filter(c => c.type === 'code')
        .map(c => c.source)
        .join('\n')
    ),
    cellNumber: index + 1
  });
  const needsLoadExt = !cells.some(c => c.type === 'code' && c.source.includes(LOAD_EXT));
  return { cell, proposed, otherSteps, needsLoadExt };
}

/** True when the active cell is a `%%mlstep` cell. */
export function activeCellIsStep(panel: NotebookPanel | null): boolean {
  const cell = panel?.content.activeCell;
  return !!cell && cell.model.type === 'code' && isStepSource(cell.model.sharedModel.getSource());
}

/** Add the `%%mlstep NAME` line (and the `%load_ext` cell the magic needs, when missing). */
export function markCell(panel: NotebookPanel, context: IMarkContext, name: string): void {
  const shared = context.cell.model.sharedModel;
  shared.setSource(markSource(shared.getSource(), name));
  if (context.needsLoadExt) {
    const first = panel.content.model!.cells;
    let at = 0;
    while (at < first.length && first.get(at).type !== 'code') {
      at++;
    }
    panel.content.model!.sharedModel.insertCell(Math.min(at, first.length), {
      cell_type: 'code',
      source: LOAD_EXT,
      metadata: {}
    });
  }
}

/** Remove the active cell's `%%mlstep` line. */
export function unmarkCell(panel: NotebookPanel): void {
  const shared = panel.content.activeCell?.model.sharedModel;
  if (shared) {
    shared.setSource(unmarkSource(shared.getSource()));
  }
}
