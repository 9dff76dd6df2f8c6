/**
 * The Deployments section in the panel: a `DeploymentsModel` following the panel's notebook
 * (reloaded after an extraction), shown through `IMlopsPanel.addSection`; Deploy and
 * Rollback ask for confirmation in a JupyterLab dialog first.
 */

import { Dialog, showDialog } from '@jupyterlab/apputils';

import { deployQuestion, rollbackQuestion } from '../core/deployments';
import { DeploymentsModel } from '../core/deploymentsModel';
import { ISectionHandle } from '../core/sections';
import { IPanelState } from '../core/state';
import { IDeploymentsApi } from '../core/types';
import { IMlopsPanel } from '../tokens';
import { deploymentsWidget, IDeploymentsActions } from '../views/deploymentsView';

/** The section's id and its rank (after the panel's own content, before later sections). */
export const DEPLOYMENTS_SECTION = { id: 'deployments', title: 'Deployments', rank: 100 };

async function confirmed(title: string, body: string, label: string): Promise<boolean> {
  const result = await showDialog({
    title,
    body,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label })]
  });
  return result.button.accept;
}

/** What the section's buttons do. */
function deploymentsActions(model: DeploymentsModel): IDeploymentsActions {
  return {
    reload: () => void model.load(),
    deploy: (target, version) =>
      void confirmed('Deploy', deployQuestion(target, version), 'Deploy').then(ok =>
        ok ? model.deploy(target.name, version ?? undefined) : undefined
      ),
    stop: target => void model.stop(target.name),
    rollback: target =>
      void confirmed('Roll back', rollbackQuestion(target), 'Roll back').then(ok =>
        ok ? model.rollback(target.name) : undefined
      )
  };
}

/** The notebook the section shows the targets of: none while the server is not usable. */
function followedPath(state: IPanelState): string | null {
  return state.server === 'ok' || state.server === 'mismatch' ? state.notebook : null;
}

/** Add the Deployments section to `panel`; dispose the handle to remove it. */
export function addDeploymentsSection(panel: IMlopsPanel, api: IDeploymentsApi): ISectionHandle {
  const model = new DeploymentsModel(api);
  let extracted = panel.state.extract.message;
  const onState = (_: unknown, state: IPanelState) => {
    const path = followedPath(state);
    if (path !== model.state.path) {
      extracted = state.extract.message;
      void model.follow(path);
    } else if (!state.extract.busy && state.extract.message !== extracted) {
      extracted = state.extract.message;
      void model.load();
    }
  };
  panel.stateChanged.connect(onState);
  void model.follow(followedPath(panel.state));
  const handle = panel.addSection({
    ...DEPLOYMENTS_SECTION,
    widget: deploymentsWidget(model, deploymentsActions(model))
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
