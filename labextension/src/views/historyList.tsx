/**
 * A folded history list (the recent runs of the Models section, the alias moves of a deploy
 * target): `<details>` whose summary counts the rows, over a `ul.jp-mlops-History` of rows,
 * each an `<li>` with a test id and data attributes.
 */

import * as React from 'react';

export interface IHistoryListProps<T> {
  /** The summary before the count, e.g. `Recent runs`. */
  title: string;
  items: readonly T[];
  /** data-testid of the `<details>`, when it has one. */
  testId?: string;
  /** data-testid of each row. */
  rowTestId: string;
  /** A row's React key. */
  rowKey: (item: T, index: number) => string;
  /** A row's data attributes, e.g. `{ 'data-reason': move.reason }`. */
  rowData: (item: T) => Record<`data-${string}`, string>;
  /** What a row shows. */
  row: (item: T) => React.ReactNode;
}

export function HistoryList<T>(props: IHistoryListProps<T>): JSX.Element {
  const { items } = props;
  return (
    <details data-testid={props.testId}>
      <summary>
        {props.title} ({items.length})
      </summary>
      <ul className="jp-mlops-History">
        {items.map((item, index) => (
          <li
            key={props.rowKey(item, index)}
            data-testid={props.rowTestId}
            {...props.rowData(item)}
          >
            {props.row(item)}
          </li>
        ))}
      </ul>
    </details>
  );
}
