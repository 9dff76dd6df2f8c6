/**
 * The live state of the runs of the open notebooks, wherever they were started (panel,
 * widget, CLI, another tab, CI): `GET run?path=<notebook>` for each notebook watched, every
 * `fastMs` while one of them runs and every `slowMs` when none does, paused while the page
 * is hidden. Each new snapshot is compared with the one before: runs that started, changed
 * or ended are emitted as events. No DOM, no JupyterLab.
 */

import { ISignal, Signal } from '@lumino/signaling';

import { isRecord, ProtocolError, parseRunSnapshot } from './replies';
import { ILiveRunJSON } from './types';

export const FAST_POLL_MS = 2000;
export const SLOW_POLL_MS = 5000;
/** Polls made fast after `hurry` (a run was just asked for), whatever the snapshots say. */
export const HURRY_POLLS = 5;

/** What the store needs from the server (the real one is `api.ts`). */
export interface ILiveRunsApi {
  /** Every run of the pipeline of `path` (a notebook or folder), newest first. */
  liveRuns(path: string): Promise<ILiveRunJSON[]>;
}

export type LiveRunEvent =
  | { type: 'started'; path: string; run: ILiveRunJSON }
  | { type: 'updated'; path: string; run: ILiveRunJSON; previous: ILiveRunJSON }
  /** `previous` is null for a run that started and ended between two snapshots. */
  | { type: 'ended'; path: string; run: ILiveRunJSON; previous: ILiveRunJSON | null };

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** One run of `GET run?path=`: the run snapshot plus where it came from and why it failed. */
export function parseLiveRun(value: unknown): ILiveRunJSON {
  const run = parseRunSnapshot(value);
  const reply = value as Record<string, unknown>;
  return {
    ...run,
    source: text(reply.source),
    started: text(reply.started),
    ended: text(reply.ended),
    failed_step: text(reply.failed_step),
    traceback: text(reply.traceback)
  };
}

/** `GET run?path=`: `{runs: [...]}`, newest first. */
export function parseLiveRuns(value: unknown): ILiveRunJSON[] {
  if (!isRecord(value) || !Array.isArray(value.runs)) {
    throw new ProtocolError('the runs of the pipeline have no runs');
  }
  return value.runs.map(parseLiveRun);
}

/** What makes two snapshots of a run different for the views (not the clock). */
function runKey(run: ILiveRunJSON): string {
  return JSON.stringify([run.status, run.recording, run.steps, run.error, run.failed_step]);
}

/**
 * The events between two snapshots of a path's runs, oldest run first. The first snapshot
 * (`before` null) is the baseline: it emits nothing.
 */
export function diffRuns(
  path: string,
  before: readonly ILiveRunJSON[] | null,
  after: readonly ILiveRunJSON[]
): LiveRunEvent[] {
  if (before === null) {
    return [];
  }
  const known = new Map(before.map(run => [run.id, run]));
  const events: LiveRunEvent[] = [];
  for (const run of [...after].reverse()) {
    const previous = known.get(run.id);
    const ended = run.status !== 'running';
    if (!previous) {
      events.push(
        ended ? { type: 'ended', path, run, previous: null } : { type: 'started', path, run }
      );
    } else if (ended && previous.status === 'running') {
      events.push({ type: 'ended', path, run, previous });
    } else if (runKey(run) !== runKey(previous)) {
      events.push({ type: 'updated', path, run, previous });
    }
  }
  return events;
}

/** The run to show for a notebook: the one running, else the newest. */
export function currentRun(runs: readonly ILiveRunJSON[]): ILiveRunJSON | null {
  return runs.find(run => run.status === 'running') ?? runs[0] ?? null;
}

/** How long until the next poll: fast while a run goes on (or after `hurry`), else slow. */
export function pollDelay(
  runs: Iterable<readonly ILiveRunJSON[]>,
  hurried: boolean,
  fastMs: number,
  slowMs: number
): number {
  if (hurried) {
    return fastMs;
  }
  for (const list of runs) {
    if (list.some(run => run.status === 'running')) {
      return fastMs;
    }
  }
  return slowMs;
}

export class LiveRuns {
  private readonly byPath = new Map<string, ILiveRunJSON[]>();
  private watched: string[] = [];
  private visible = true;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private hurryLeft = 0;
  /** The latest request per path: older replies are dropped. */
  private readonly requests = new Map<string, number>();
  private sequence = 0;
  private disposed = false;
  private readonly _events = new Signal<this, LiveRunEvent>(this);
  private readonly _changed = new Signal<this, string>(this);

  constructor(
    private readonly api: ILiveRunsApi,
    private readonly fastMs = FAST_POLL_MS,
    private readonly slowMs = SLOW_POLL_MS
  ) {}

  /** A run started, changed or ended in a watched notebook. */
  get events(): ISignal<this, LiveRunEvent> {
    return this._events;
  }

  /** The runs of a notebook (its path) changed. */
  get changed(): ISignal<this, string> {
    return this._changed;
  }

  /** The runs of notebook `path` as last seen, newest first ([] before the first reply). */
  runs(path: string): readonly ILiveRunJSON[] {
    return this.byPath.get(path) ?? [];
  }

  /** Every run going on in the watched notebooks, with its notebook. */
  running(): { path: string; run: ILiveRunJSON }[] {
    const found: { path: string; run: ILiveRunJSON }[] = [];
    for (const path of this.watched) {
      for (const run of this.runs(path)) {
        if (run.status === 'running') {
          found.push({ path, run });
        }
      }
    }
    return found;
  }

  /** Follow the runs of these notebooks (the open ones); newly watched ones are asked now. */
  watch(paths: readonly string[]): void {
    const next = [...new Set(paths)];
    const added = next.some(path => !this.watched.includes(path));
    for (const path of this.watched) {
      if (!next.includes(path)) {
        this.byPath.delete(path);
        this.requests.delete(path);
        this._changed.emit(path);
      }
    }
    this.watched = next;
    if (added) {
      void this.pollNow();
    } else if (!next.length) {
      this.stop();
    }
  }

  /** The page is shown or hidden: polls pause while it is hidden. */
  setVisible(visible: boolean): void {
    if (visible === this.visible) {
      return;
    }
    this.visible = visible;
    if (visible) {
      void this.pollNow();
    } else {
      this.stop();
    }
  }

  /** A run was just asked for: poll fast for a while so it shows at once. */
  hurry(): void {
    this.hurryLeft = HURRY_POLLS;
    void this.pollNow();
  }

  /** Ask for the runs of every watched notebook now, then go on polling. */
  async pollNow(): Promise<void> {
    this.stop();
    if (this.disposed || !this.visible || !this.watched.length) {
      return;
    }
    await Promise.all(this.watched.map(path => this.pollPath(path)));
    if (this.timer === null) {
      this.schedule();
    }
  }

  private async pollPath(path: string): Promise<void> {
    const request = ++this.sequence;
    this.requests.set(path, request);
    let runs: ILiveRunJSON[];
    try {
      runs = await this.api.liveRuns(path);
    } catch {
      return; // the last snapshot stays; the next poll tries again
    }
    if (this.disposed || this.requests.get(path) !== request || !this.watched.includes(path)) {
      return;
    }
    const before = this.byPath.get(path) ?? null;
    this.byPath.set(path, runs);
    const events = diffRuns(path, before, runs);
    if (before === null || events.length) {
      this._changed.emit(path);
    }
    for (const event of events) {
      this._events.emit(event);
    }
  }

  private schedule(): void {
    if (this.disposed || !this.visible || !this.watched.length) {
      return;
    }
    const hurried = this.hurryLeft > 0;
    this.hurryLeft = Math.max(0, this.hurryLeft - 1);
    const delay = pollDelay(this.byPath.values(), hurried, this.fastMs, this.slowMs);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.pollNow();
    }, delay);
  }

  private stop(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  dispose(): void {
    this.disposed = true;
    this.stop();
    Signal.clearData(this);
  }
}
