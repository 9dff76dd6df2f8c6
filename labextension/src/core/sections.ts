/**
 * The sections other plugins add below the panel's own content (through the `IMlopsPanel`
 * token, see tokens.ts): checked when added, kept in rank order (ties in the order added),
 * removed when their handle is disposed. No DOM: the panel widget shows what `sections`
 * lists and follows `changed`.
 */

import { ISignal, Signal } from '@lumino/signaling';

/** The rank of a section that gives none (lower ranks come first). */
export const DEFAULT_SECTION_RANK = 500;

/** What the registry needs to know of a section; `render` / `widget` are its content. */
export interface ISectionSpec {
  readonly id: string;
  readonly title: string;
  readonly rank?: number;
  readonly render?: unknown;
  readonly widget?: unknown;
}

/** Removes the section it was returned for (same shape as Lumino's `IDisposable`). */
export interface ISectionHandle {
  readonly isDisposed: boolean;
  dispose(): void;
}

const SECTION_ID = /^[A-Za-z][\w.:-]*$/;

/** Why `section` cannot be added next to the `existing` ids, or null when it can. */
export function sectionProblem(section: ISectionSpec, existing: readonly string[]): string | null {
  if (typeof section.id !== 'string' || !SECTION_ID.test(section.id)) {
    return `section id ${JSON.stringify(section.id)} is not a name (a letter, then letters, digits, _ . : -)`;
  }
  if (existing.includes(section.id)) {
    return `a section with id "${section.id}" is already in the panel`;
  }
  if (typeof section.title !== 'string' || !section.title.trim()) {
    return `section "${section.id}" has no title`;
  }
  if (section.rank !== undefined && !Number.isFinite(section.rank)) {
    return `section "${section.id}" has a rank that is not a finite number`;
  }
  const contents = [section.render, section.widget].filter(c => c !== undefined).length;
  if (contents !== 1) {
    return `section "${section.id}" needs exactly one of render or widget`;
  }
  if (section.render !== undefined && typeof section.render !== 'function') {
    return `section "${section.id}": render is not a function`;
  }
  return null;
}

interface IEntry<T> {
  readonly section: T;
  readonly rank: number;
  readonly seq: number;
}

export class SectionRegistry<T extends ISectionSpec> {
  private entries: IEntry<T>[] = [];
  private seq = 0;
  private readonly _changed = new Signal<this, readonly T[]>(this);

  /** The sections, in the order they are shown. */
  get sections(): readonly T[] {
    return this.entries.map(e => e.section);
  }

  /** Emits the new `sections` after every add and removal. */
  get changed(): ISignal<this, readonly T[]> {
    return this._changed;
  }

  has(id: string): boolean {
    return this.entries.some(e => e.section.id === id);
  }

  /**
   * Add a section (throws Error when `sectionProblem` finds one). Dispose the handle to
   * remove it; disposing again does nothing.
   */
  add(section: T): ISectionHandle {
    const problem = sectionProblem(
      section,
      this.entries.map(e => e.section.id)
    );
    if (problem !== null) {
      throw new Error(`jupyter-mlops: ${problem}`);
    }
    const entry: IEntry<T> = {
      section,
      rank: section.rank ?? DEFAULT_SECTION_RANK,
      seq: this.seq++
    };
    this.entries = [...this.entries, entry].sort((a, b) => a.rank - b.rank || a.seq - b.seq);
    this._changed.emit(this.sections);
    let disposed = false;
    return {
      get isDisposed() {
        return disposed;
      },
      dispose: () => {
        if (disposed) {
          return;
        }
        disposed = true;
        this.remove(entry);
      }
    };
  }

  private remove(entry: IEntry<T>): void {
    const before = this.entries.length;
    this.entries = this.entries.filter(e => e !== entry);
    if (this.entries.length !== before) {
      this._changed.emit(this.sections);
    }
  }

  /** Remove every section (the panel is going away). */
  clear(): void {
    if (this.entries.length) {
      this.entries = [];
      this._changed.emit(this.sections);
    }
  }

  dispose(): void {
    this.entries = [];
    Signal.clearData(this);
  }
}
