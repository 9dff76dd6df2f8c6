import { formatDateTime, formatSeconds, fullDateTime, mlflowRunUrl, stateLabel } from '../format';

describe('durations', () => {
  it('reads like the terminal progress', () => {
    expect(formatSeconds(0.2665)).toBe('267 ms');
    expect(formatSeconds(4.72)).toBe('4.72 s');
    expect(formatSeconds(12.345)).toBe('12.3 s');
    expect(formatSeconds(65)).toBe('1 min 05 s');
    expect(formatSeconds(7380)).toBe('2 h 03 min');
    expect(formatSeconds(-1)).toBe('');
    expect(formatSeconds(NaN)).toBe('');
  });

  it('says done for ran', () => {
    expect(stateLabel('ran')).toBe('done');
    expect(stateLabel('not_run')).toBe('not run');
    expect(stateLabel('cached')).toBe('cached');
  });
});

describe('MLflow run links', () => {
  it('links into the MLflow UI when its URL is set, else gives none', () => {
    expect(mlflowRunUrl('http://localhost:5000/', '1', 'abc')).toBe(
      'http://localhost:5000/#/experiments/1/runs/abc'
    );
    expect(mlflowRunUrl('', '1', 'abc')).toBeNull();
    expect(mlflowRunUrl('http://localhost:5000', null, 'abc')).toBeNull();
  });
});

describe('dates', () => {
  const now = new Date(2026, 11, 2, 22, 0);
  it('reads "2 Dec 21:15" in local time, with the year when it is not this one', () => {
    expect(formatDateTime(new Date(2026, 11, 2, 21, 5), now)).toBe('2 Dec 21:05');
    expect(formatDateTime(new Date(2025, 0, 31, 9, 30).getTime(), now)).toBe('31 Jan 2025 09:30');
    const iso = new Date(2026, 5, 1, 8, 0).toISOString();
    expect(formatDateTime(iso, now)).toBe('1 Jun 08:00');
  });

  it('is empty for a missing or unreadable time', () => {
    expect(formatDateTime(null, now)).toBe('');
    expect(formatDateTime('yesterday', now)).toBe('');
    expect(fullDateTime(undefined)).toBe('');
    expect(fullDateTime(new Date(2026, 11, 2, 21, 5))).toContain('21:05');
  });
});
