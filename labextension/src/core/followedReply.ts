/**
 * What the panel sections reading one reply per followed notebook share (Deployments,
 * Monitoring): the path followed, the latest reply, a loading flag and why loading failed.
 * Following another path drops what was shown; replies for a path no longer followed, or
 * older than the latest request, are dropped. Subclasses add their own state and actions.
 */

import { ISignal, Signal } from '@lumino/signaling';

/** The text of a caught error. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface IFollowedState<R> {
  /** The notebook or pipeline folder followed (relative to the server root). */
  path: string | null;
  loading: boolean;
  reply: R | null;
  /** Why the reply could not be loaded. */
  message: string | null;
}

export abstract class FollowedReply<R, S extends IFollowedState<R>> {
  private _state: S;
  private readonly _changed = new Signal<this, S>(this);
  private loadSeq = 0;
  private disposed = false;

  protected constructor(private readonly empty: S) {
    this._state = empty;
  }

  get state(): S {
    return this._state;
  }

  get changed(): ISignal<this, S> {
    return this._changed;
  }

  /** The reply for `path` (from the REST API). */
  protected abstract fetch(path: string): Promise<R>;

  /** Called once a reply for the followed path is shown. */
  protected onLoaded(_reply: R): void {}

  /** Called before another path is followed, and on dispose. */
  protected onLeave(): void {}

  protected update(patch: Partial<S>): void {
    if (this.disposed) {
      return;
    }
    this._state = { ...this._state, ...patch };
    this._changed.emit(this._state);
  }

  /** Show what `path` has (null: nothing); the same path again does nothing. */
  async follow(path: string | null): Promise<void> {
    if (path === this._state.path) {
      return;
    }
    this.loadSeq++;
    this.onLeave();
    this.update({ ...this.empty, path });
    if (path) {
      await this.load();
    }
  }

  /** Read the reply of the followed path again. */
  async load(): Promise<void> {
    const path = this._state.path;
    if (!path) {
      return;
    }
    const seq = ++this.loadSeq;
    this.update({ loading: true } as Partial<S>);
    try {
      const reply = await this.fetch(path);
      if (seq === this.loadSeq && path === this._state.path) {
        this.update({ reply, loading: false, message: null } as Partial<S>);
        this.onLoaded(reply);
      }
    } catch (error) {
      if (seq === this.loadSeq && path === this._state.path) {
        this.update({ loading: false, message: messageOf(error) } as Partial<S>);
      }
    }
  }

  dispose(): void {
    this.onLeave();
    this.disposed = true;
    this.loadSeq++;
    Signal.clearData(this);
  }
}

/** What a section shows: loading, why loading failed, its reply, or nothing yet. */
export function phaseOf<R>(state: IFollowedState<R>): 'loading' | 'failed' | 'ok' | 'idle' {
  return state.loading ? 'loading' : state.message ? 'failed' : state.reply ? 'ok' : 'idle';
}
