import { stepLook } from '../stepStates';
import { StepState } from '../types';

describe('step looks', () => {
  it('gives every run state its own icon and word', () => {
    const states: StepState[] = ['ran', 'cached', 'running', 'failed', 'not_run'];
    expect(states.map(s => [stepLook(s).icon, stepLook(s).label])).toEqual([
      ['✓', 'done'],
      ['=', 'cached'],
      ['▶', 'running'],
      ['✗', 'failed'],
      ['–', 'not run']
    ]);
    const all: StepState[] = [...states, 'waiting', 'cancelled'];
    expect(new Set(all.map(s => stepLook(s).icon)).size).toBe(all.length);
  });

  it('shows an extraction error over any run state, and nothing before a run', () => {
    expect(stepLook('ran', true)).toEqual({ state: 'error', icon: '!', label: 'error' });
    expect(stepLook(undefined)).toEqual({ state: 'none', icon: '', label: '' });
  });
});
