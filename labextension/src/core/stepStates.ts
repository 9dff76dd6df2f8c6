/**
 * How a step's state looks, shared by the steps list and the DAG: an icon, its word
 * (the accessible text equivalent) and the `data-state` value the CSS colours by, so a
 * state reads the same everywhere and never by colour alone. Pure.
 */

import { stateLabel } from './format';
import { StepState } from './types';

/** A run state, `error` (the step cannot be extracted) or `none` (no run yet). */
export type StepDisplayState = StepState | 'error' | 'none';

export interface IStepLook {
  state: StepDisplayState;
  /** One character; '' when there is nothing to show. */
  icon: string;
  /** The word shown (or read by a screen reader) for the state; '' for none. */
  label: string;
}

const STATE_ICONS: Record<StepDisplayState, string> = {
  waiting: '…',
  running: '▶',
  ran: '✓',
  cached: '=',
  failed: '✗',
  not_run: '–',
  cancelled: '⊘',
  error: '!',
  none: ''
};

/** The look of a step: an extraction error wins over any run state. */
export function stepLook(state: StepState | undefined, hasError = false): IStepLook {
  const shown: StepDisplayState = hasError ? 'error' : (state ?? 'none');
  const label = shown === 'error' ? 'error' : shown === 'none' ? '' : stateLabel(shown);
  return { state: shown, icon: STATE_ICONS[shown], label };
}
