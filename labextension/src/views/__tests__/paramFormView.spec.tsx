/**
 * The parameters form and the Run button as rendered markup (react-dom/server, no DOM).
 */

import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

import { paramFields } from '../../core/paramForm';
import { IDLE_RUN, IRunState } from '../../core/run';
import { IDLE_ACTION, notRunnableReason } from '../../core/state';
import { IRunViewProps, RunView } from '../runView';

const PIPELINE = {
  params: { n_estimators: 100, rate: 1, flag: false },
  param_types: { n_estimators: 'int', rate: 'float', flag: 'bool' }
};

function render(
  edits: Record<string, string>,
  run: IRunState = IDLE_RUN,
  notRunnable: string | null = null
): string {
  const props: IRunViewProps = {
    paramFields: paramFields(PIPELINE, edits),
    extract: IDLE_ACTION,
    run,
    canRun: notRunnable === null,
    notRunnable,
    runUrl: () => null,
    onParam: () => undefined,
    onResetParams: () => undefined,
    onExtract: () => undefined,
    onRun: () => undefined,
    onCancel: () => undefined
  };
  return renderToStaticMarkup(<RunView {...props} />);
}

function runButton(html: string): string {
  return /<button[^>]*data-testid="mlops-run"[^>]*>/.exec(html)![0];
}

describe('the parameters form', () => {
  it('types each field and enables Run while every value is valid', () => {
    const html = render({});
    expect(html).toContain('data-param="rate" data-type="float" aria-invalid="false"');
    expect(html).toContain('value="1.0"');
    expect(html).toMatch(
      /type="checkbox"[^>]*data-param="flag"|data-param="flag"[^>]*type="checkbox"/
    );
    expect(runButton(html)).not.toContain('disabled');
    expect(html).not.toContain('mlops-run-blocked');
    expect(html).not.toContain('mlops-params-changed');
  });

  it('puts the refusal under the field and disables Run with the reason as text', () => {
    const html = render({ n_estimators: '3.5' });
    const refusal = 'parameter &#x27;n_estimators&#x27; expects an integer, got 3.5';
    expect(html).toContain(
      'aria-invalid="true" aria-describedby="jp-mlops-param-n_estimators-note"'
    );
    expect(html).toContain(
      `<div id="jp-mlops-param-n_estimators-note" class="jp-mlops-ParamError" data-testid="mlops-param-error">${refusal}</div>`
    );
    expect(runButton(html)).toContain('disabled=""');
    expect(runButton(html)).toContain('aria-describedby="jp-mlops-run-blocked"');
    expect(html).toContain(`Run disabled: ${refusal}`);
  });

  it('says why Run is disabled when the notebook cannot be extracted', () => {
    const why = notRunnableReason({ scan: 'errors', rows: [], scanMessage: null })!;
    const html = render({}, IDLE_RUN, why);
    expect(runButton(html)).toContain('disabled=""');
    expect(html).toContain(
      'Run disabled: the notebook cannot be extracted; fix the errors shown on its steps and cells'
    );
  });

  it('marks changed values in words, and counts them', () => {
    const html = render({ n_estimators: '1500', rate: '0.5' });
    expect(html).toContain('· 2 changed');
    expect(html.match(/data-testid="mlops-param-changed"> changed/g)).toHaveLength(2);
    expect(html).toContain('data-param="flag" data-changed="false"');
  });

  it("shows the running run's values, read-only", () => {
    const run: IRunState = {
      ...IDLE_RUN,
      phase: 'running',
      id: 'r1',
      params: { n_estimators: 1500, rate: 1, flag: false }
    };
    const html = render({ n_estimators: '7' }, run);
    expect(html).toContain('values of the running run');
    expect(html).toContain('readonly="" inputMode="decimal" value="1500"');
    expect(html).not.toContain('value="7"');
    expect(html).toContain('· 1 changed');
  });
});
