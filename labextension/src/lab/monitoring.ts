/**
 * The Monitoring section in the panel: a `MonitoringModel` following the panel's notebook,
 * shown through `IMlopsPanel.addSection`. It reloads at the panel's own cadence: when
 * another notebook is followed, after an extraction, and whenever the panel reloads its
 * run records (after a run, on the panel's Refresh); Reload reads it at once.
 */

import { cueChange, MonitoringModel, panelCue } from '../core/monitoringModel';
import { ISectionHandle } from '../core/sections';
import { IPanelState } from '../core/state';
import { IMonitoringApi } from '../core/types';
import { IMlopsPanel } from '../tokens';
import { monitoringWidget } from '../views/monitoringView';

/** The section's id and its rank (after Deployments). */
export const MONITORING_SECTION = { id: 'monitoring', title: 'Monitoring', rank: 110 };

/** Add the Monitoring section to `panel`; dispose the handle to remove it. */
export function addMonitoringSection(panel: IMlopsPanel, api: IMonitoringApi): ISectionHandle {
  const model = new MonitoringModel(api);
  let seen = panelCue(panel.state);
  const onState = (_: unknown, state: IPanelState) => {
    const change = cueChange(seen, state);
    if (change !== null) {
      seen = panelCue(state);
      void (change === 'follow' ? model.follow(seen.path) : model.load());
    }
  };
  panel.stateChanged.connect(onState);
  void model.follow(seen.path);
  const handle = panel.addSection({
    ...MONITORING_SECTION,
    widget: monitoringWidget(model, {
      reload: () => void model.load(),
      reportUrl: name => model.reportUrl(name)
    })
  });
  return {
    get isDisposed() {
      return handle.isDisposed;
    },
    dispose: () => {
      panel.stateChanged.disconnect(onState);
      model.dispose();
      handle.dispose();
    }
  };
}
