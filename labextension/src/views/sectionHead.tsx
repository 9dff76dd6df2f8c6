/**
 * The heads of the panel's sections, one look for all: `Section` (a titled region: an
 * `h3` heading, optional things on its right, then the content) and `SectionHead` (a
 * section's line of hints with its Reload button on the right).
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

export interface ISectionProps {
  /** The heading, e.g. `Steps`; also the region's accessible name. */
  title: string;
  /** `data-section` of the region (a stable hook for tests and CSS). */
  id: string;
  /** A count shown after the title, e.g. `Steps (5)`. */
  count?: number;
  /** What sits on the heading's line, on the right (buttons, a short note). */
  aside?: React.ReactNode;
  children: React.ReactNode;
}

/** A titled region of the panel: heading line, then its content. */
export function Section(props: ISectionProps): JSX.Element {
  return (
    <section
      className="jp-mlops-Section"
      data-testid="mlops-panel-section"
      data-section={props.id}
      aria-label={props.title}
    >
      <div className="jp-mlops-SectionHead">
        <h3 className="jp-mlops-Heading" data-testid="mlops-heading">
          {props.title}
          {props.count !== undefined && (
            <span className="jp-mlops-HeadingCount"> ({props.count})</span>
          )}
        </h3>
        {props.aside}
      </div>
      {props.children}
    </section>
  );
}
