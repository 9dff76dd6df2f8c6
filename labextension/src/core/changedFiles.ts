/**
 * The files an extraction changed, as the panel lists them: each path shortened to what
 * follows the folder they all share (the pipeline folder), in order. Pure.
 */

export interface IChangedFile {
  /** The path relative to the server root (what opens the file). */
  path: string;
  /** The path relative to the shared folder. */
  shown: string;
}

/** The folder every path is in (`a/b/` for `a/b/c.py`, `a/b/d/e.py`); '' when none. */
export function sharedFolder(paths: readonly string[]): string {
  if (!paths.length) {
    return '';
  }
  const folders = paths.map(p => p.split('/').slice(0, -1));
  const shared: string[] = [];
  for (let i = 0; folders.every(f => i < f.length && f[i] === folders[0][i]); i++) {
    shared.push(folders[0][i]);
  }
  return shared.length ? shared.join('/') + '/' : '';
}

/** The changed files, sorted, each with its path shown from the shared folder. */
export function changedFiles(paths: readonly string[]): IChangedFile[] {
  const folder = sharedFolder(paths);
  return [...paths].sort().map(path => ({ path, shown: path.slice(folder.length) }));
}
