/**
 * The panel's layout as rendered markup (react-dom/server, no DOM): a heading per section,
 * the Models section only for a notebook with a model step, every step's outputs, and the
 * extraction's changed files.
 */

import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

import classification from '../../core/__tests__/fixtures/classification.show.json';
import { stepRows } from '../../core/pipeline';
import { INITIAL_STATE, IPanelState } from '../../core/state';
import { IModelsJSON, IPipelineJSON } from '../../core/types';
import { ExtractMessage } from '../extractView';
import { IPanelActions, PanelView } from '../panelView';
import { StepsView } from '../stepsView';

const PIPELINE = classification as unknown as IPipelineJSON;

const noop = () => undefined;
const ACTIONS: IPanelActions = {
  selectStep: noop,
  setParam: noop,
  resetParams: noop,
  extract: noop,
  run: noop,
  cancel: noop,
  reloadRecords: noop,
  retryServer: noop,
  markCell: noop,
  openDag: noop,
  openFile: noop,
  rerun: noop,
  promote: () => Promise.resolve(null)
} as unknown as IPanelActions;

function models(registered: string[]): IModelsJSON[] {
  return [{ name: 'classification', aliases: {}, versions: [], models: registered }];
}

function render(changes: Partial<IPanelState>): string {
  const state: IPanelState = {
    ...INITIAL_STATE,
    server: 'ok',
    notebook: 'work/a long folder name/classification.ipynb',
    scan: 'ok',
    pipeline: PIPELINE,
    rows: stepRows(PIPELINE),
    ...changes
  };
  return renderToStaticMarkup(<PanelView state={state} actions={ACTIONS} runUrl={() => null} />);
}

function headings(html: string): string[] {
  return [...html.matchAll(/<h3[^>]*>(.*?)<\/h3>/g)].map(m => m[1].replace(/<[^>]+>/g, ''));
}

describe('the panel layout', () => {
  it('gives every section a heading', () => {
    const html = render({ models: models(['classification']) });
    expect(headings(html)).toEqual(['Run', 'DAG', 'Steps (5)', 'Models: classification']);
  });

  it('shows the full notebook path on hover', () => {
    expect(render({})).toContain('title="work/a long folder name/classification.ipynb"');
  });

  it('says there is no model step instead of listing no versions', () => {
    const html = render({ models: models([]) });
    expect(html).toContain('data-testid="mlops-no-model-step"');
    expect(html).not.toContain('mlops-models-empty');
    expect(html).toContain('--model VAR');
  });

  it('keeps the Models section while the models are not known yet', () => {
    expect(render({ models: null })).toContain('data-testid="mlops-models"');
  });
});

describe('the steps list', () => {
  it('shows every output and says when a step keeps nothing', () => {
    const rows = stepRows(PIPELINE);
    rows[4] = { ...rows[4], outputs: [] };
    const html = renderToStaticMarkup(<StepsView rows={rows} statuses={{}} onSelect={noop} />);
    expect(html.match(/data-testid="mlops-step-outputs"/g)).toHaveLength(5);
    expect(html).toContain('nothing kept');
  });
});

describe('the extraction message', () => {
  it('is one line with the changed files folded under it', () => {
    const html = renderToStaticMarkup(
      <ExtractMessage
        extract={{
          busy: false,
          failed: false,
          message: 'Extracted 5 steps into pipelines/classification/ (2 files changed)',
          files: ['pipelines/classification/pipeline.yaml', 'pipelines/classification/steps.py']
        }}
      />
    );
    expect(html).toContain('Extracted 5 steps into pipelines/classification/</div>');
    expect(html).toContain('<summary>2 files changed</summary>');
    expect(html.match(/data-testid="mlops-extract-file"/g)).toHaveLength(2);
    expect(html).toContain('data-path="pipelines/classification/steps.py"');
  });

  it('lists no file when nothing changed or the extraction failed', () => {
    const failed = renderToStaticMarkup(
      <ExtractMessage extract={{ busy: false, failed: true, message: 'cell 3: bad', files: [] }} />
    );
    expect(failed).not.toContain('mlops-extract-files');
    expect(failed).toContain('cell 3: bad');
  });
});
