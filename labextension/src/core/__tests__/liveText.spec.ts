/**
 * What the live runs show outside the panel: the notification when a run ends, the
 * status-bar item, and the badge and traceback of each step cell.
 */
import * as fs from 'fs';
import * as path from 'path';

import { parseLiveRuns } from '../liveRuns';
import {
  metricsSummary,
  NOTICE_MAX_CHARS,
  runEndMessage,
  sourceLabel,
  statusItemText,
  statusItemTitle,
  stripAnsi
} from '../liveText';
import { cellBadges, failedTraceback, stepBadge, stepCell } from '../stepBadges';
import { ILiveRunJSON } from '../types';

function fixture(name: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf-8'));
}

const RUNNING = parseLiveRuns(fixture('live.runs.running.json'));
const FAILED = parseLiveRuns(fixture('live.runs.failed.json'));
const SUCCEEDED = RUNNING[1];

describe('the notification of a run that ended', () => {
  it('gives a success its duration, origin, version and metrics', () => {
    expect(runEndMessage(SUCCEEDED)).toBe(
      'classification succeeded in 1 min 16 s (from panel), model version 1: ' +
        'accuracy 0.958, f1 0.967, roc_auc 0.994'
    );
  });

  it('names the failed step and the error of a failure, within the length Lab shows', () => {
    const message = runEndMessage(FAILED[0]);
    expect(
      message.startsWith(
        'classification failed at step train after 31.2 s (from CLI): step train failed: InvalidParameterError'
      )
    ).toBe(true);
    expect(message.length).toBeLessThanOrEqual(NOTICE_MAX_CHARS);
    expect(message.endsWith('…')).toBe(true);
  });

  it('says a cancelled run was cancelled, and leaves out an origin not said', () => {
    const cancelled: ILiveRunJSON = { ...SUCCEEDED, status: 'cancelled', source: null, elapsed: 4 };
    expect(runEndMessage(cancelled)).toBe('classification cancelled after 4.00 s');
  });

  it('summarizes metrics by name, integers as they are', () => {
    expect(metricsSummary({ b: 2, a: 0.123456, c: 3, d: 4 })).toBe('a 0.123, b 2, c 3 (+1 more)');
    expect(metricsSummary({})).toBe('');
  });

  it('names where runs come from', () => {
    expect(sourceLabel('cli')).toBe('CLI');
    expect(sourceLabel('ci')).toBe('CI');
    expect(sourceLabel('widget')).toBe('widget');
    expect(sourceLabel('elsewhere')).toBe('elsewhere');
    expect(sourceLabel(null)).toBeNull();
  });
});

describe('the status-bar item', () => {
  it('shows the first run going on with its steps done', () => {
    expect(statusItemText([RUNNING[0]])).toBe('mlops: classification ▶ 2/5 steps');
    const other = { ...RUNNING[0], pipeline: 'regression' };
    expect(statusItemText([RUNNING[0], other])).toBe('mlops: classification ▶ 2/5 steps (+1 more)');
    expect(statusItemText([{ ...RUNNING[0], recording: true }])).toBe(
      'mlops: classification ▶ recording'
    );
    expect(statusItemText([])).toBe('');
  });

  it('lists every run going on in its tooltip', () => {
    expect(statusItemTitle([RUNNING[0]])).toBe(
      'classification: 2 of 5 steps done, started from CLI\nClick to open the MLOps panel'
    );
  });
});

const SOURCES = [
  '%load_ext jupyter_mlops',
  '',
  'test_size = 0.25',
  '%%mlstep load_data\ndf = load()',
  '%%mlstep features\ndf["x"] = 1',
  '%%mlstep split\nX_train = df',
  '%%mlstep train --model model\nmodel = fit()',
  '%%mlstep evaluate --metrics metrics\nmetrics = {}'
];

describe('step cell badges', () => {
  it('puts a badge on each step cell with its state in the newest run that had it', () => {
    const badges = cellBadges(SOURCES, RUNNING);
    expect([...badges.keys()]).toEqual([4, 5, 6, 7, 8]);
    expect(badges.get(4)).toMatchObject({
      step: 'load_data',
      duration: '2.10 s',
      label: 'step load_data done 2.10 s'
    });
    expect(badges.get(4)!.look).toEqual({ state: 'ran', icon: '✓', label: 'done' });
    expect(badges.get(5)!.look.state).toBe('cached');
    expect(badges.get(5)!.duration).toBe('');
    expect(badges.get(6)!.look).toMatchObject({ state: 'running', icon: '▶' });
  });

  it('shows a step no run had yet with its name only', () => {
    const badge = stepBadge('class_balance', RUNNING);
    expect(badge.look.state).toBe('none');
    expect(badge.label).toBe('step class_balance');
  });

  it('keeps the traceback of the current run failed step, without colour codes', () => {
    const traceback = failedTraceback(FAILED);
    expect(traceback).toMatchObject({ step: 'train', runId: '20261202-211500-4242' });
    expect(traceback!.text).not.toContain('\u001b');
    expect(traceback!.text).toContain('----> 2 model.fit(X_train, y_train)');
    expect(traceback!.error).toContain('InvalidParameterError');
    expect(failedTraceback(RUNNING)).toBeNull();
    expect(failedTraceback([{ ...FAILED[0], failed_step: null }])).toBeNull();
  });

  it('finds the cell of a step', () => {
    expect(stepCell(SOURCES, 'train')).toBe(7);
    expect(stepCell(SOURCES, 'nowhere')).toBeNull();
  });

  it('strips terminal colour codes', () => {
    expect(stripAnsi('\u001b[0;31mValueError\u001b[0m: boom')).toBe('ValueError: boom');
  });
});
