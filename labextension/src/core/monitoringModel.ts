/**
 * The Monitoring section's state and what changes it, without widgets or the DOM: the
 * monitoring overview of the followed notebook's pipeline (`GET monitoring`), loaded when
 * another notebook is followed and again whenever the lab glue says so (after an
 * extraction, when the panel reloads its run records, on Reload). Replies for a path no
 * longer followed, or older than the latest request, are dropped.
 */

import { FollowedReply, IFollowedState } from './followedReply';
import { IPanelState } from './state';
import { IMonitoringApi, IMonitoringJSON } from './types';

export type IMonitoringState = IFollowedState<IMonitoringJSON>;

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

export class MonitoringModel extends FollowedReply<IMonitoringJSON, IMonitoringState> {
  constructor(private readonly api: IMonitoringApi) {
    super(NO_MONITORING);
  }

  protected fetch(path: string): Promise<IMonitoringJSON> {
    return this.api.monitoring(path);
  }

  /** The URL that opens the latest report of `model` (null when no path is followed). */
  reportUrl(model: string): string | null {
    return this.state.path ? this.api.reportUrl(this.state.path, model) : null;
  }
}
