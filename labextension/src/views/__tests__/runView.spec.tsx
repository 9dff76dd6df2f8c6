/**
 * The run view of a run started elsewhere (rendered markup, react-dom/server): where it
 * was started, and Cancel only for the runs the server owns.
 */

import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

import { IDLE_RUN, IRunState } from '../../core/run';
import { IDLE_ACTION } from '../../core/state';
import { RunView } from '../runView';

function render(run: IRunState): string {
  return renderToStaticMarkup(
    <RunView
      paramFields={[]}
      extract={IDLE_ACTION}
      run={run}
      canRun={true}
      runUrl={() => null}
      onParam={() => undefined}
      onResetParams={() => undefined}
      onExtract={() => undefined}
      onRun={() => undefined}
      onCancel={() => undefined}
    />
  );
}

function cancelButton(html: string): string {
  return /<button[^>]*data-testid="mlops-cancel"[^>]*>/.exec(html)![0];
}

const RUNNING: IRunState = { ...IDLE_RUN, phase: 'running', id: 'r1' };

describe('a run started elsewhere', () => {
  it('says where it was started and cannot be cancelled from the panel', () => {
    const html = render({ ...RUNNING, source: 'cli' });
    expect(html).toContain('data-testid="mlops-run-from">from CLI</span>');
    expect(cancelButton(html)).toContain('disabled=""');
    expect(cancelButton(html)).toContain('title="Started from CLI: stop it where it runs"');
  });

  it('keeps Cancel for the runs the server owns', () => {
    for (const source of ['panel', null]) {
      const html = render({ ...RUNNING, source });
      expect(cancelButton(html)).not.toContain('disabled');
    }
    expect(render({ ...RUNNING, source: 'panel' })).toContain('from panel');
    expect(render({ ...RUNNING, source: null })).not.toContain('mlops-run-from');
  });

  it('shows no origin before a run', () => {
    expect(render({ ...IDLE_RUN, source: 'cli' })).not.toContain('mlops-run-from');
  });
});
