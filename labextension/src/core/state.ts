/**
 * The panel's state (what the view renders) and the notebook handle the model follows.
 * Types and initial values only.
 */

import { IStepRow } from './pipeline';
import { IDLE_RUN, IRunState } from './run';
import { IExtractionError, ILiveRunJSON, IModelsJSON, IPipelineJSON, IRunHistory } from './types';

/** The notebook the panel follows, as the model needs it (the plugin wraps a NotebookPanel). */
export interface INotebookHandle {
  /** Path relative to the server root. */
  readonly path: string;
  /** The live notebook as nbformat JSON. */
  content(): unknown;
  /** Each cell's type and source, in order. */
  cells(): { type: string; source: string }[];
  readonly dirty: boolean;
  save(): Promise<void>;
}

export type ServerState = 'checking' | 'ok' | 'mismatch' | 'missing' | 'unreachable';
export type ScanState = 'idle' | 'scanning' | 'ok' | 'errors' | 'failed';

export interface IActionState {
  busy: boolean;
  message: string | null;
  failed: boolean;
  /** Files the action wrote or removed (relative to the server root), when it says. */
  files?: readonly string[];
}

export interface IPanelState {
  server: ServerState;
  serverVersion: string | null;
  serverMessage: string | null;
  /** Path of the notebook followed, null when no notebook is active. */
  notebook: string | null;
  scan: ScanState;
  /** The last pipeline scanned without errors (kept while extraction fails). */
  pipeline: IPipelineJSON | null;
  rows: IStepRow[];
  errors: IExtractionError[];
  /** Errors that belong to no step row (shown above the list). */
  otherErrors: IExtractionError[];
  scanMessage: string | null;
  extract: IActionState;
  run: IRunState;
  /** Texts typed into the parameters form that differ from the defaults', by name. */
  paramTexts: Record<string, string>;
  history: IRunHistory | null;
  /** The versions of every registered model of the pipeline, in notebook order. */
  models: IModelsJSON[] | null;
  recordsMessage: string | null;
  /** The runs of the notebook's pipeline started anywhere (live records), newest first. */
  liveRuns?: readonly ILiveRunJSON[];
}

export const IDLE_ACTION: IActionState = { busy: false, message: null, failed: false };

/** The fields that belong to one notebook: reset when another one becomes active. */
export function notebookState(path: string | null): Partial<IPanelState> {
  return {
    notebook: path,
    scan: 'idle',
    pipeline: null,
    rows: [],
    errors: [],
    otherErrors: [],
    scanMessage: null,
    extract: IDLE_ACTION,
    run: IDLE_RUN,
    paramTexts: {},
    history: null,
    models: null,
    recordsMessage: null,
    liveRuns: []
  };
}

export const INITIAL_STATE: IPanelState = {
  server: 'checking',
  serverVersion: null,
  serverMessage: null,
  ...(notebookState(null) as Omit<IPanelState, 'server' | 'serverVersion' | 'serverMessage'>)
};

/**
 * Why the notebook cannot be extracted or run now, as "Run disabled: …" says; null when it
 * can, or while it is being scanned (nothing to say yet).
 */
export function notRunnableReason(
  state: Pick<IPanelState, 'scan' | 'rows' | 'scanMessage'>
): string | null {
  switch (state.scan) {
    case 'errors':
      return 'the notebook cannot be extracted; fix the errors shown on its steps and cells';
    case 'failed':
      return `the notebook could not be scanned: ${state.scanMessage ?? 'no reason given'}`;
    case 'ok':
      return state.rows.length ? null : 'no step yet; mark a cell with %%mlstep NAME';
    default:
      return null;
  }
}
