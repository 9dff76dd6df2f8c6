/**
 * Drives one run through the REST API: start (`POST run`), poll (`GET run/<id>?path=`)
 * until it ends, cancel (`DELETE run/<id>`), pick up a run the server already has for the
 * notebook (after a page reload), or follow a run of the notebook started anywhere else
 * (`observe`, fed by the live runs). State changes go through `runReducer`; every new
 * state is handed to `onChange`. No DOM, no JupyterLab.
 */

import { IDLE_RUN, IRunState, isRunActive, RunEvent, runReducer } from './run';
import { ApiError, IMlopsApi, IRunRequest, IRunStatusJSON } from './types';

/** Consecutive failed polls after which the run is reported lost. */
export const MAX_POLL_FAILURES = 5;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class RunTracker {
  static readonly idle: IRunState = IDLE_RUN;
  static readonly active = isRunActive;

  private state: IRunState = IDLE_RUN;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped by `detach`, so replies to requests made before are ignored. */
  private generation = 0;
  private failures = 0;
  /** The notebook whose runs are followed (polls ask with it, to find runs started elsewhere). */
  private path: string | null = null;
  /** The run the live runs showed last as the notebook's current one. */
  private observedId: string | null = null;

  constructor(
    private readonly api: IMlopsApi,
    private readonly pollMs: number,
    private readonly onChange: (state: IRunState) => void
  ) {}

  get current(): IRunState {
    return this.state;
  }

  private dispatch(event: RunEvent): void {
    const next = runReducer(this.state, event);
    if (next !== this.state) {
      this.state = next;
      this.onChange(next);
    }
  }

  /** Stop following the current run (it goes on on the server). */
  detach(): void {
    this.generation++;
    this.stopPolling();
    this.state = IDLE_RUN;
    this.path = null;
    this.observedId = null;
  }

  /** Show the latest run the server has for `path`, and follow it while it goes on. */
  async attach(path: string): Promise<void> {
    const generation = this.generation;
    this.path = path;
    let runs: IRunStatusJSON[];
    try {
      runs = await this.api.activeRuns();
    } catch {
      return; // nothing to pick up: the panel works without it
    }
    // a run started or observed meanwhile is newer than what the server remembers
    if (generation !== this.generation || this.state.phase !== 'idle') {
      return;
    }
    const mine = runs.filter(run => run.path === path);
    const latest = mine.find(run => run.status === 'running') ?? mine[mine.length - 1];
    if (latest) {
      this.dispatch({ type: 'attach', status: latest });
      this.schedulePoll();
    }
  }

  /**
   * Start a run of `request` whose steps are `steps`; `beforeStart` runs first (saving the
   * notebook). A run already going for the pipeline (409) is followed instead.
   */
  async start(
    request: IRunRequest,
    steps: string[],
    beforeStart: () => Promise<void> = async () => undefined
  ): Promise<void> {
    if (isRunActive(this.state)) {
      return;
    }
    const generation = this.generation;
    this.path = request.path;
    this.failures = 0;
    this.dispatch({ type: 'start', steps });
    try {
      await beforeStart();
      const status = await this.api.startRun(request);
      if (generation !== this.generation) {
        return;
      }
      this.dispatch({ type: 'started', id: status.id });
      this.dispatch({ type: 'status', status });
    } catch (error) {
      if (generation !== this.generation) {
        return;
      }
      const running = error instanceof ApiError && error.status === 409 ? error.details.id : null;
      if (typeof running !== 'string') {
        this.dispatch({ type: 'error', message: messageOf(error) });
        return;
      }
      this.dispatch({ type: 'started', id: running });
    }
    if (this.state.phase === 'cancelling') {
      await this.sendCancel();
    }
    this.schedulePoll();
  }

  /**
   * The runs of notebook `path` (newest first) as the live runs see them: when a new one
   * is the current (a run started from the CLI, a widget, another tab) and none is going on
   * here, follow it. A run already shown, or one the user moved away from, is left alone.
   */
  observe(path: string, runs: readonly IRunStatusJSON[]): void {
    const current = runs.find(run => run.status === 'running') ?? runs[0];
    if (!current || current.id === this.observedId) {
      return;
    }
    this.observedId = current.id;
    if (isRunActive(this.state) || current.id === this.state.id) {
      return;
    }
    this.path = path;
    this.failures = 0;
    this.dispatch({ type: 'attach', status: current });
    this.schedulePoll();
  }

  /** Ask the server to cancel the run; polling reports when it has stopped. */
  async cancel(): Promise<void> {
    const before = this.state.phase;
    this.dispatch({ type: 'cancel' });
    if (before === 'running' && this.state.phase === 'cancelling') {
      await this.sendCancel();
    }
  }

  private async sendCancel(): Promise<void> {
    const id = this.state.id;
    if (id === null) {
      return;
    }
    const generation = this.generation;
    try {
      const status = await this.api.cancelRun(id);
      if (generation === this.generation) {
        this.dispatch({ type: 'status', status });
      }
    } catch (error) {
      // 409: it had already finished; the next poll shows how it ended.
      if (!(error instanceof ApiError && error.status === 409) && generation === this.generation) {
        this.dispatch({
          type: 'error',
          message: `cannot cancel: ${messageOf(error)}`
        });
      }
    }
  }

  private stopPolling(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private schedulePoll(): void {
    this.stopPolling();
    if (isRunActive(this.state) && this.state.id !== null) {
      this.timer = setTimeout(() => void this.poll(), this.pollMs);
    }
  }

  /** One `GET run/<id>`; a 404 or repeated failures end the run as an error. */
  async poll(): Promise<void> {
    this.timer = null;
    const id = this.state.id;
    if (id === null || !isRunActive(this.state)) {
      return;
    }
    const generation = this.generation;
    try {
      const status = await this.api.runStatus(id, this.path ?? undefined);
      if (generation !== this.generation) {
        return;
      }
      this.failures = 0;
      this.dispatch({ type: 'status', status });
    } catch (error) {
      if (generation !== this.generation) {
        return;
      }
      this.failures++;
      if (error instanceof ApiError && error.status === 404) {
        this.dispatch({
          type: 'error',
          message: `the server no longer knows run ${id}`
        });
      } else if (this.failures >= MAX_POLL_FAILURES) {
        this.dispatch({
          type: 'error',
          message: `lost the run: ${messageOf(error)}`
        });
      }
    }
    this.schedulePoll();
  }
}
