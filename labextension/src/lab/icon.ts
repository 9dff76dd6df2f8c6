/** The panel's tab icon and the mark-step button's icon (theme-coloured via jp-icon3). */

import { LabIcon } from '@jupyterlab/ui-components';

const PIPELINE_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">
  <g class="jp-icon3" fill="#616161">
    <rect x="5" y="1" width="6" height="4" rx="1"/>
    <rect x="1" y="11" width="6" height="4" rx="1"/>
    <rect x="9" y="11" width="6" height="4" rx="1"/>
    <path d="M7.5 5h1v2.5H12a.5.5 0 0 1 .5.5v3h-1V8.5h-7V11h-1V8a.5.5 0 0 1 .5-.5h3.5z"/>
  </g>
</svg>`;

const STEP_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">
  <g class="jp-icon3" fill="#616161">
    <rect x="2" y="2" width="12" height="5" rx="1"/>
    <path d="M7.5 7h1v3.5H11L8 14 5 10.5h2.5z"/>
  </g>
</svg>`;

export const pipelineIcon = new LabIcon({
  name: 'jupyter-mlops:pipeline',
  svgstr: PIPELINE_SVG
});

export const stepIcon = new LabIcon({
  name: 'jupyter-mlops:step',
  svgstr: STEP_SVG
});
