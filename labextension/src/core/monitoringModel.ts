/**
 * The Monitoring section's state and what changes it, without widgets or the DOM: the
 * monitoring overview of the followed notebook's pipeline (`GET monitoring`), loaded when
 * another notebook is followed and again whenever the lab glue says so (after an
 * extraction, when the panel reloads its run records, on Reload). Replies for a path no
 * longer followed, or older than the latest request, are dropped.
 */

import { ISignal, Signal } from '@lumino/signaling';

import { IPanelState } from './state';
import { IMonitoringApi, IMonitoringJSON } from './types';

export interface IMonitoringState {
  /** The notebook or pipeline folder followed (relative to the server root). */
  path: string | null;
  loading: boolean;
  reply: IMonitoringJSON | null;
  /** Why the overview could not be loaded. */
  message: string | null;
}

export const NO_MONITORING: IMonitoringState = {
  path: null,
  loading: false,
  reply: null,
  message: null
};

/** What of the panel's state the section reloads on (`panelCue`, `cueChange`). */
export interface IPanelCue {
  /** The notebook followed: none while the server is not usable. */
  path: string | null;
  extracted: string | null;
  /** The panel's run records, replaced each time it reloads them. */
  records: unknown;
}

export function panelCue(state: IPanelState): IPanelCue {
  const usable = state.server === 'ok' || state.server === 'mismatch';
  return {
    path: usable ? state.notebook : null,
    extracted: state.extract.message,
    records: state.history
  };
}

/**
 * What the section does when the panel's state changes from `before`: follow another
 * notebook, load again (an extraction ended, the panel reloaded its run records: after a
 * run or on its Refresh), or nothing.
 */
export function cueChange(before: IPanelCue, state: IPanelState): 'follow' | 'load' | null {
  const now = panelCue(state);
  if (now.path !== before.path) {
    return 'follow';
  }
  const extracted = !state.extract.busy && now.extracted !== before.extracted;
  const reloaded = now.records !== before.records && now.records !== null;
  return extracted || reloaded ? 'load' : null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class MonitoringModel {
  private _state: IMonitoringState = NO_MONITORING;
  private readonly _changed = new Signal<this, IMonitoringState>(this);
  private loadSeq = 0;
  private disposed = false;

  constructor(private readonly api: IMonitoringApi) {}

  get state(): IMonitoringState {
    return this._state;
  }

  get changed(): ISignal<this, IMonitoringState> {
    return this._changed;
  }

  private update(patch: Partial<IMonitoringState>): void {
    if (this.disposed) {
      return;
    }
    this._state = { ...this._state, ...patch };
    this._changed.emit(this._state);
  }

  /** Show the monitoring of `path` (null: none); the same path again does nothing. */
  async follow(path: string | null): Promise<void> {
    if (path === this._state.path) {
      return;
    }
    this.loadSeq++;
    this.update({ ...NO_MONITORING, path });
    if (path) {
      await this.load();
    }
  }

  /** Read the overview again (latest windows, trends, trigger states). */
  async load(): Promise<void> {
    const path = this._state.path;
    if (!path) {
      return;
    }
    const seq = ++this.loadSeq;
    this.update({ loading: true });
    try {
      const reply = await this.api.monitoring(path);
      if (seq === this.loadSeq && path === this._state.path) {
        this.update({ reply, loading: false, message: null });
      }
    } catch (error) {
      if (seq === this.loadSeq && path === this._state.path) {
        this.update({ loading: false, message: messageOf(error) });
      }
    }
  }

  /** The URL that opens the latest report of `model` (null when no path is followed). */
  reportUrl(model: string): string | null {
    return this._state.path ? this.api.reportUrl(this._state.path, model) : null;
  }

  dispose(): void {
    this.disposed = true;
    this.loadSeq++;
    Signal.clearData(this);
  }
}
