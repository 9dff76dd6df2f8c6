/**
 * The widget of one section another plugin added (IMlopsPanel.addSection): a heading (the
 * look of the panel's own sections, views/sectionHead.tsx), then the section's React
 * content (rendered from the current state again on every change) or its own Lumino widget
 * (detached, never disposed, when the section goes away).
 */

import { ISignal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IPanelState } from '../core/state';
import { IMlopsPanelSection } from '../tokens';

export class SectionWidget extends Panel {
  /** The section's own widget, when it gave one (it belongs to its plugin). */
  private readonly external: Widget | null;

  constructor(
    readonly section: IMlopsPanelSection,
    state: () => IPanelState,
    changed: ISignal<unknown, IPanelState>
  ) {
    super();
    this.addClass('jp-mlops-Section');
    this.addClass('jp-mlops-PluginSection');
    this.node.dataset.testid = 'mlops-section';
    this.node.dataset.section = section.id;
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', section.title);

    const head = new Widget();
    head.addClass('jp-mlops-SectionHead');
    const title = document.createElement('h3');
    title.className = 'jp-mlops-Heading';
    title.dataset.testid = 'mlops-heading';
    title.textContent = section.title;
    head.node.appendChild(title);
    this.addWidget(head);

    this.external = section.widget ?? null;
    const render = section.render;
    if (this.external) {
      this.addWidget(this.external);
    } else if (render) {
      const body = ReactWidget.create(
        <UseSignal signal={changed} initialArgs={state()}>
          {() => render(state())}
        </UseSignal>
      );
      body.addClass('jp-mlops-SectionBody');
      this.addWidget(body);
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    if (this.external && !this.external.isDisposed) {
      this.external.parent = null;
    }
    super.dispose();
  }
}
