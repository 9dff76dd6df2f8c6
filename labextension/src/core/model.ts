/**
 * The panel's state and what changes it, without Lumino widgets or the DOM: the server
 * check, the notebook followed, its scanned pipeline (debounced on every edit, from the
 * live content), extraction, the run (through `RunTracker`), run history and models.
 * The view renders `state` and calls the methods; `changed` fires after every change.
 */

import { ISignal, Signal } from '@lumino/signaling';

import { rerunTexts } from './compare';
import { Debouncer } from './debounce';
import { IParamField, ParamStore, paramFields, runBlocker, runParams, withEdit } from './paramForm';
import { errorsByCell, isErrorReply, rowsWithErrors, stepRows, unattachedErrors } from './pipeline';
import { IRunState } from './run';
import { RunTracker } from './runTracker';
import { INITIAL_STATE, INotebookHandle, IPanelState, notebookState } from './state';
import {
  ApiError,
  ILiveRunJSON,
  IMlopsApi,
  IModelsJSON,
  IPromotionJSON,
  IRunStatusJSON
} from './types';
import { FRONTEND_VERSION } from './version';

export const SCAN_DELAY_MS = 500;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class PanelModel {
  private _state: IPanelState;
  private readonly _changed = new Signal<this, IPanelState>(this);
  private readonly debouncer = new Debouncer(() => void this.refresh(), SCAN_DELAY_MS);
  private handle: INotebookHandle | null = null;
  private scanSeq = 0;
  /** The content last scanned, to skip scans after changes that do not matter (outputs). */
  private scannedContent: string | null = null;
  private readonly tracker: RunTracker;

  constructor(
    private readonly api: IMlopsApi,
    pollMs = 1000,
    private readonly paramStore: ParamStore = new ParamStore()
  ) {
    this._state = INITIAL_STATE;
    this.tracker = new RunTracker(api, pollMs, run => this.onRun(run));
  }

  get state(): IPanelState {
    return this._state;
  }

  get changed(): ISignal<this, IPanelState> {
    return this._changed;
  }

  /** Error messages per 1-based cell number, for the cells of the followed notebook. */
  get cellErrors(): Map<number, string[]> {
    return errorsByCell(this._state.errors);
  }

  /** Re-render without a change of state (e.g. a setting the view reads changed). */
  notify(): void {
    this._changed.emit(this._state);
  }

  private update(patch: Partial<IPanelState>): void {
    this._state = { ...this._state, ...patch };
    this._changed.emit(this._state);
  }

  /** Ask the server extension for its version: missing (404), unreachable or mismatched. */
  async checkServer(): Promise<void> {
    this.update({ server: 'checking', serverMessage: null });
    try {
      const version = await this.api.version();
      const server = version === FRONTEND_VERSION ? 'ok' : 'mismatch';
      this.update({ server, serverVersion: version });
    } catch (error) {
      const missing = error instanceof ApiError && error.status === 404;
      this.update({
        server: missing ? 'missing' : 'unreachable',
        serverMessage: messageOf(error)
      });
    }
    if (this.handle && this.serverUsable) {
      await Promise.all([this.refresh(true), this.tracker.attach(this.handle.path)]);
    }
  }

  private get serverUsable(): boolean {
    return this._state.server === 'ok' || this._state.server === 'mismatch';
  }

  /** Follow another notebook (null: none is active). */
  async setNotebook(handle: INotebookHandle | null): Promise<void> {
    if (handle === this.handle) {
      return;
    }
    this.handle = handle;
    this.debouncer.cancel();
    this.tracker.detach();
    this.scanSeq++;
    this.scannedContent = null;
    this.update(notebookState(handle?.path ?? null));
    const edits = handle ? this.loadParamEdits(handle) : Promise.resolve();
    if (handle && this.serverUsable) {
      await Promise.all([edits, this.refresh(), this.tracker.attach(handle.path)]);
    } else {
      await edits;
    }
  }

  /** The parameter values edited in `handle`'s notebook before (another tab, a reload). */
  private async loadParamEdits(handle: INotebookHandle): Promise<void> {
    const edits = await this.paramStore.load(handle.path);
    if (handle === this.handle && Object.keys(edits).length) {
      this.update({ paramTexts: { ...edits, ...this._state.paramTexts } });
    }
  }

  /** The followed notebook changed: scan it again once edits pause. */
  notebookChanged(): void {
    if (this.handle && this.serverUsable) {
      this.debouncer.schedule();
    }
  }

  /** True while an edit waits for its scan. */
  get scanPending(): boolean {
    return this.debouncer.pending;
  }

  /**
   * Scan the live notebook now, unless its content is the one scanned last (`force`
   * scans anyway). Replies of older scans or of another notebook are dropped.
   */
  async refresh(force = false): Promise<void> {
    const handle = this.handle;
    if (!handle || !this.serverUsable) {
      return;
    }
    this.debouncer.cancel();
    const content = handle.content();
    const key = JSON.stringify(content);
    if (!force && key === this.scannedContent && this._state.scan !== 'failed') {
      return;
    }
    this.scannedContent = key;
    const seq = ++this.scanSeq;
    this.update({ scan: 'scanning' });
    try {
      const reply = await this.api.pipeline(handle.path, content);
      if (seq !== this.scanSeq) {
        return;
      }
      if (isErrorReply(reply)) {
        const rows = rowsWithErrors(
          handle.cells().map(c => (c.type === 'code' ? c.source : '')),
          reply.errors,
          this._state.pipeline
        );
        this.update({
          scan: 'errors',
          rows,
          errors: reply.errors,
          otherErrors: unattachedErrors(rows, reply.errors),
          scanMessage: null
        });
        return;
      }
      const newName = reply.name !== this._state.pipeline?.name;
      this.update({
        scan: 'ok',
        pipeline: reply,
        rows: stepRows(reply),
        errors: [],
        otherErrors: [],
        scanMessage: null
      });
      if (newName) {
        await this.loadRecords();
      }
    } catch (error) {
      if (seq === this.scanSeq) {
        this.update({ scan: 'failed', scanMessage: messageOf(error) });
      }
    }
  }

  /** The parameters form: each parameter's type, text, parsed value or error. */
  get paramFields(): IParamField[] {
    return paramFields(this._state.pipeline, this._state.paramTexts);
  }

  /** The text typed into parameter `name`'s field (kept for this notebook). */
  setParamText(name: string, text: string): void {
    this.keepParamEdits(withEdit(this._state.paramTexts, this.paramFields, name, text));
  }

  /** Put every parameter back to its default. */
  resetParams(): void {
    this.keepParamEdits({});
  }

  private keepParamEdits(edits: Record<string, string>): void {
    this.update({ paramTexts: edits });
    if (this.handle) {
      void this.paramStore.save(this.handle.path, edits);
    }
  }

  /** The run's recent MLflow records and the registered model versions. */
  async loadRecords(): Promise<void> {
    const handle = this.handle;
    const name = this._state.pipeline?.name;
    if (!handle || !name) {
      return;
    }
    try {
      // One after the other: the server imports MLflow on the first call, and two
      // first imports in parallel threads can deadlock.
      const history = await this.api.history(handle.path);
      const models = await this.modelsOf(name, handle.path);
      if (handle === this.handle) {
        this.update({ history, models, recordsMessage: null });
      }
    } catch (error) {
      if (handle === this.handle) {
        this.update({ recordsMessage: messageOf(error) });
      }
    }
  }

  /**
   * The versions of every registered model of the pipeline: the server lists the models
   * with the reply for the pipeline name (a pipeline with several `--model` steps registers
   * each under its own name, not the pipeline's).
   */
  private async modelsOf(pipeline: string, path: string): Promise<IModelsJSON[]> {
    const first = await this.api.models(pipeline, path);
    const names = first.models?.length ? first.models : [pipeline];
    const found: IModelsJSON[] = [];
    for (const name of names) {
      found.push(name === pipeline ? first : await this.api.models(name, path));
    }
    return found;
  }

  /** Save the notebook when it has unsaved edits (extraction and runs read the file). */
  private async saved(handle: INotebookHandle): Promise<void> {
    if (handle.dirty) {
      await handle.save();
    }
  }

  /** Extract the notebook (saved first) into its pipeline package. */
  async extract(): Promise<void> {
    const handle = this.handle;
    if (!handle || this._state.extract.busy) {
      return;
    }
    this.update({ extract: { busy: true, message: 'extracting…', failed: false } });
    try {
      await this.saved(handle);
      const reply = await this.api.extract(handle.path);
      const changed = reply.changed.length
        ? `${reply.changed.length} file${reply.changed.length === 1 ? '' : 's'} changed`
        : 'no file changed';
      const message = `Extracted ${reply.steps.length} steps into ${reply.folder}/ (${changed})`;
      this.update({ extract: { busy: false, message, failed: false, files: reply.changed } });
    } catch (error) {
      const errors = error instanceof ApiError ? error.details.errors : undefined;
      this.update({
        extract: { busy: false, message: messageOf(error), failed: true }
      });
      if (Array.isArray(errors)) {
        await this.refresh(true);
      }
    }
  }

  /** Start a run with the form's parameters (the notebook saved first). */
  async run(): Promise<void> {
    const handle = this.handle;
    if (!handle) {
      return;
    }
    const fields = this.paramFields;
    const refused = runBlocker(fields);
    if (refused !== null) {
      this.update({ run: { ...RunTracker.idle, phase: 'error', message: refused } });
      return;
    }
    const steps = this._state.rows.map(r => r.name);
    await this.tracker.start({ path: handle.path, params: runParams(fields) }, steps, () =>
      this.saved(handle)
    );
  }

  /**
   * Set the form to a recorded run's parameter values (marked as changed where they are
   * not the defaults) and start a run with them, as Run does.
   */
  async rerun(params: Record<string, string>): Promise<void> {
    this.keepParamEdits(rerunTexts(params, this._state.pipeline));
    await this.run();
  }

  /**
   * Move `alias` of model `name` to `version` (`force`: even though the gate rejected it),
   * then read the models again; the reply or the ApiError (409: rejected) is returned.
   */
  async promote(
    name: string,
    version: string,
    alias: string,
    force: boolean
  ): Promise<IPromotionJSON | ApiError> {
    const path = this.handle?.path;
    if (!path || !this.api.promote) {
      return new ApiError(0, 'this server cannot promote versions');
    }
    try {
      return await this.api.promote({ name, version, alias, force, path });
    } catch (error) {
      return error instanceof ApiError ? error : new ApiError(0, messageOf(error));
    } finally {
      await this.loadRecords();
    }
  }

  /** The live runs of notebook `path` (newest first), listed in Recent runs when followed. */
  showRuns(path: string, runs: readonly ILiveRunJSON[]): void {
    if (this.handle?.path === path) {
      this.update({ liveRuns: runs });
    }
  }

  /** Cancel the run going on. */
  async cancel(): Promise<void> {
    await this.tracker.cancel();
  }

  /**
   * The runs of notebook `path` started anywhere (the live runs, newest first): a new one
   * of the followed notebook is shown and followed like a run started here.
   */
  observeRuns(path: string, runs: readonly IRunStatusJSON[]): void {
    if (this.handle?.path === path && this.serverUsable) {
      this.tracker.observe(path, runs);
    }
  }

  private onRun(run: IRunState): void {
    const finished = this._state.run.phase !== run.phase && !RunTracker.active(run);
    this.update({ run });
    if (finished && run.phase !== 'idle') {
      void this.loadRecords();
    }
  }

  dispose(): void {
    this.debouncer.cancel();
    this.tracker.detach();
    Signal.clearData(this);
  }
}
