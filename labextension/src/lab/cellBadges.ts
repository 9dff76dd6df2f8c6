/**
 * Feedback from the live runs in the notebooks themselves: a small badge under each
 * `%%mlstep` cell's editor (step name, state icon and word as in the panel, duration), and
 * the failed step's traceback under its cell, the way extraction errors are shown
 * (lab/notebook.ts showCellErrors), until a newer run or the user's "Hide" takes it away.
 */

import { Cell } from '@jupyterlab/cells';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { LiveRuns } from '../core/liveRuns';
import { cellBadges, failedTraceback, IStepBadge, IStepTraceback } from '../core/stepBadges';
import { cellTexts } from './notebook';

const BADGE_CLASS = 'jp-mlops-CellBadge';
const TRACEBACK_CLASS = 'jp-mlops-CellTraceback';
const STEP_MOD = 'jp-mlops-mod-step';
const FAILED_MOD = 'jp-mlops-mod-failed';
/** Edits pause this long before the badges follow them. */
const EDIT_DELAY_MS = 300;

/**
 * The badge under the editor of `cell`, between its input and its outputs (created or
 * updated; removed when `badge` is null). Always there on a step cell, so runs never move
 * the cells; below the editor, so the cell toolbar never covers it.
 */
function showBadge(cell: Cell, badge: IStepBadge | null): void {
  const input = cell.inputArea?.node.parentElement ?? null;
  let node = cell.node.querySelector<HTMLElement>(`:scope > .${BADGE_CLASS}`);
  cell.toggleClass(STEP_MOD, badge !== null);
  if (!badge || !input || input.parentElement !== cell.node) {
    node?.remove();
    return;
  }
  if (!node) {
    node = document.createElement('div');
    node.className = BADGE_CLASS;
    node.dataset.testid = 'mlops-cell-badge';
    node.innerHTML =
      '<span class="jp-mlops-CellBadgeName"></span>' +
      '<span class="jp-mlops-CellBadgeState">' +
      '<span class="jp-mlops-CellBadgeIcon" aria-hidden="true"></span>' +
      '<span class="jp-mlops-CellBadgeWord"></span>' +
      '<span class="jp-mlops-CellBadgeDuration"></span></span>';
  }
  if (input.nextElementSibling !== node) {
    input.after(node);
  }
  const part = (name: string) => node!.querySelector<HTMLElement>(`.jp-mlops-CellBadge${name}`)!;
  node.dataset.step = badge.step;
  node.dataset.state = badge.look.state;
  node.title = `jupyter_mlops ${badge.label}`;
  node.setAttribute('aria-label', `jupyter_mlops ${badge.label}`);
  part('Name').textContent = badge.step;
  part('Icon').textContent = badge.look.icon;
  part('Word').textContent = badge.look.label || 'no run yet';
  part('Duration').textContent = badge.duration;
}

/** The traceback box under `cell` (null: none); `onHide` forgets it. */
function showTraceback(
  cell: Cell,
  traceback: IStepTraceback | null,
  onHide: (runId: string) => void
): HTMLElement | null {
  let box = cell.node.querySelector<HTMLElement>(`:scope > .${TRACEBACK_CLASS}`);
  cell.toggleClass(FAILED_MOD, traceback !== null);
  if (!traceback) {
    box?.remove();
    return null;
  }
  if (!box || box.dataset.run !== traceback.runId) {
    box?.remove();
    box = document.createElement('div');
    box.className = TRACEBACK_CLASS;
    box.dataset.testid = 'mlops-cell-traceback';
    box.dataset.run = traceback.runId;
    box.setAttribute('role', 'region');
    box.setAttribute(
      'aria-label',
      `jupyter_mlops: traceback of step ${traceback.step}: ${traceback.error}`
    );
    const head = document.createElement('div');
    head.className = 'jp-mlops-CellTracebackHead';
    const title = document.createElement('span');
    title.textContent = `jupyter_mlops: step ${traceback.step} failed in run ${traceback.runId}`;
    const hide = document.createElement('button');
    hide.className = 'jp-mlops-LinkButton';
    hide.textContent = 'Hide';
    hide.title = 'Hide this traceback (a new run shows its own)';
    hide.addEventListener('click', () => onHide(traceback.runId));
    head.append(title, hide);
    const pre = document.createElement('pre');
    pre.dataset.testid = 'mlops-cell-traceback-text';
    pre.textContent = traceback.text;
    box.append(head, pre);
    cell.node.appendChild(box);
  }
  return box;
}

export class CellBadges {
  /** Runs whose traceback the user hid. */
  private readonly hidden = new Set<string>();
  private readonly timers = new Map<NotebookPanel, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly tracker: INotebookTracker,
    private readonly live: LiveRuns
  ) {
    tracker.forEach(panel => this.follow(panel));
    tracker.widgetAdded.connect((_, panel) => this.follow(panel));
    live.changed.connect((_, path) => this.refreshPath(path));
  }

  private follow(panel: NotebookPanel): void {
    void panel.context.ready.then(() => {
      if (panel.isDisposed) {
        return;
      }
      panel.context.model.contentChanged.connect(() => this.schedule(panel));
      this.refresh(panel);
    });
    panel.disposed.connect(() => {
      clearTimeout(this.timers.get(panel));
      this.timers.delete(panel);
    });
  }

  private schedule(panel: NotebookPanel): void {
    clearTimeout(this.timers.get(panel));
    this.timers.set(
      panel,
      setTimeout(() => {
        this.timers.delete(panel);
        this.refresh(panel);
      }, EDIT_DELAY_MS)
    );
  }

  private refreshPath(path: string): void {
    this.tracker.forEach(panel => {
      if (panel.context.isReady && panel.context.localPath === path) {
        this.refresh(panel);
      }
    });
  }

  /**
   * Show the badges and the traceback of `panel` from its runs; returns the traceback box
   * (null when none is shown).
   */
  refresh(panel: NotebookPanel): HTMLElement | null {
    if (panel.isDisposed || !panel.context.isReady) {
      return null;
    }
    const runs = this.live.runs(panel.context.localPath);
    const sources = cellTexts(panel).map(c => (c.type === 'code' ? c.source : ''));
    const badges = cellBadges(sources, runs);
    const failed = failedTraceback(runs);
    const shown = failed && !this.hidden.has(failed.runId) ? failed : null;
    let box: HTMLElement | null = null;
    panel.content.widgets.forEach((cell, index) => {
      const badge = badges.get(index + 1) ?? null;
      if (!cell.inputArea && badge) {
        void cell.ready.then(() => this.schedule(panel)); // rendered later (windowing)
      }
      showBadge(cell, badge);
      const traceback = shown && badge?.step === shown.step ? shown : null;
      box = showTraceback(cell, traceback, runId => this.hide(panel, runId)) ?? box;
    });
    return box;
  }

  /** Show the traceback under cell `cell` (1-based) of `panel` and scroll it into view. */
  reveal(panel: NotebookPanel, cell: number): void {
    const box = this.refresh(panel);
    const under = panel.content.widgets[cell - 1]?.node.contains(box) ? box : null;
    under?.scrollIntoView({ block: 'nearest' });
  }

  private hide(panel: NotebookPanel, runId: string): void {
    this.hidden.add(runId);
    this.refresh(panel);
  }
}
