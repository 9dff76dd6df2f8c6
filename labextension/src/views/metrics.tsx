/** A version's or run's metrics, sorted by name, as "name value" chips. */

import * as React from 'react';

import { formatMetric } from '../core/compare';

export function Metrics(props: { metrics: Record<string, number> }): JSX.Element | null {
  const entries = Object.entries(props.metrics).sort(([a], [b]) => (a < b ? -1 : 1));
  if (!entries.length) {
    return null;
  }
  return (
    <div className="jp-mlops-Metrics" data-testid="mlops-metrics">
      {entries.map(([name, value]) => (
        <span key={name} className="jp-mlops-Metric">
          {name} <strong>{formatMetric(value)}</strong>
        </span>
      ))}
    </div>
  );
}
