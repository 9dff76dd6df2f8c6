/**
 * The Extract result as one compact line (the full text on hover, so it never pushes the
 * parameters down), and, when files changed, "N files changed" folding out the list of
 * those files (shown from the pipeline folder), each opening in JupyterLab. The opener comes from `FileOpenerContext`,
 * which the panel view provides.
 */

import * as React from 'react';

import { changedFiles } from '../core/changedFiles';
import { IActionState } from '../core/state';

/** Opens a file (a path relative to the server root) in JupyterLab. */
export const FileOpenerContext = React.createContext<(path: string) => void>(() => undefined);

/** The count the extraction message ends with, shown by the file list instead. */
const CHANGED_SUFFIX = / \((\d+ files? changed)\)$/;

function ChangedFiles(props: { files: readonly string[]; label: string }) {
  const open = React.useContext(FileOpenerContext);
  return (
    <details className="jp-mlops-ChangedFiles" data-testid="mlops-extract-files">
      <summary>{props.label}</summary>
      <ul>
        {changedFiles(props.files).map(file => (
          <li key={file.path}>
            <button
              className="jp-mlops-LinkButton"
              data-testid="mlops-extract-file"
              data-path={file.path}
              title={`Open ${file.path}`}
              onClick={() => open(file.path)}
            >
              {file.shown}
            </button>
          </li>
        ))}
      </ul>
    </details>
  );
}

/** The extraction's message line (`mlops-extract-message`) and its changed files. */
export function ExtractMessage(props: { extract: IActionState }): JSX.Element {
  const { message, failed, files } = props.extract;
  const listed = !failed && files && files.length > 0;
  const count = listed ? CHANGED_SUFFIX.exec(message ?? '') : null;
  const text = count ? (message ?? '').replace(CHANGED_SUFFIX, '') : (message ?? '');
  return (
    <div className="jp-mlops-ExtractResult">
      <div
        className="jp-mlops-Message jp-mlops-ExtractMessage"
        data-testid="mlops-extract-message"
        data-failed={failed}
        role="status"
        title={message ?? undefined}
      >
        {text}
      </div>
      {listed && (
        <ChangedFiles
          files={files}
          label={count ? count[1] : `${files.length} file${files.length === 1 ? '' : 's'}`}
        />
      )}
    </div>
  );
}
