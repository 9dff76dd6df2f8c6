/**
 * The head of a panel section: what it shows on the left, its Reload button on the right.
 */

import * as React from 'react';

export function SectionHead(props: {
  /** data-testid of the Reload button. */
  reloadTestId: string;
  onReload: () => void;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <div className="jp-mlops-SectionHead">
      {props.children}
      <button
        className="jp-mlops-LinkButton"
        data-testid={props.reloadTestId}
        onClick={props.onReload}
      >
        Reload
      </button>
    </div>
  );
}
