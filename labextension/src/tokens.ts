/**
 * What the jupyter-mlops plugin provides to other plugins: the side panel, to which they
 * add sections (shown below the panel's own content, in rank order) and whose state
 * (the notebook followed, its pipeline, the run, models...) they read and follow.
 *
 *   const plugin: JupyterFrontEndPlugin<void> = {
 *     id: 'my-extension:deployments',
 *     autoStart: true,
 *     requires: [IMlopsPanel],
 *     activate: (app, panel: IMlopsPanel) => {
 *       panel.addSection({
 *         id: 'deployments',
 *         title: 'Deployments',
 *         rank: 100,
 *         render: state => <Deployments pipeline={state.pipeline?.name ?? null} />
 *       });
 *     }
 *   };
 */

import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { ISectionHandle } from './core/sections';
import { IPanelState } from './core/state';

export { DEFAULT_SECTION_RANK } from './core/sections';
export type { ISectionHandle } from './core/sections';
export type { INotebookHandle, IPanelState, ScanState, ServerState } from './core/state';

/** A section another plugin adds to the panel: give exactly one of `render` or `widget`. */
export interface IMlopsPanelSection {
  /** Unique in the panel; the section's element has data-testid="mlops-section" and data-section=id. */
  readonly id: string;
  /** The heading shown above the section. */
  readonly title: string;
  /** Lower ranks come first; equal ranks in the order added. Default DEFAULT_SECTION_RANK (500). */
  readonly rank?: number;
  /** React content, rendered again after every change of the panel's state. */
  readonly render?: (state: IPanelState) => React.ReactNode;
  /**
   * Or a Lumino widget the plugin owns and keeps up to date (e.g. from `stateChanged`):
   * removing the section detaches it without disposing it.
   */
  readonly widget?: Widget;
}

/** The jupyter_mlops side panel. */
export interface IMlopsPanel {
  /** The panel widget's id (e.g. for `app.shell.activateById`). */
  readonly id: string;
  /** The panel's current state. */
  readonly state: IPanelState;
  /** Emits the new state after every change. */
  readonly stateChanged: ISignal<IMlopsPanel, IPanelState>;
  /**
   * Show `section` below the panel's own content and the sections of lower rank. Throws
   * when its id is taken or it is malformed; dispose the handle to remove it.
   */
  addSection(section: IMlopsPanelSection): ISectionHandle;
}

export const IMlopsPanel = new Token<IMlopsPanel>(
  'jupyter-mlops:IMlopsPanel',
  'The jupyter_mlops side panel: add sections to it, read and follow its state.'
);
