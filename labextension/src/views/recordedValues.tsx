/**
 * What a run recorded in MLflow, as Recent runs and Models show it: its parameters (those
 * not at their default marked "changed") and its metrics, sorted by name.
 */

import * as React from 'react';

import { formatMetric, recordedParams } from '../core/compare';
import { IPipelineJSON } from '../core/types';

export function Params(props: {
  params: Record<string, string>;
  pipeline: IPipelineJSON | null;
}): JSX.Element | null {
  const params = recordedParams(props.params, props.pipeline);
  if (!params.length) {
    return null;
  }
  return (
    <div className="jp-mlops-RunParams" data-testid="mlops-run-params">
      {params.map(p => (
        <span
          key={p.name}
          className={'jp-mlops-RunParam' + (p.changed ? ' jp-mod-changed' : '')}
          data-testid="mlops-run-param"
          data-param={p.name}
          data-changed={p.changed}
        >
          {p.name}=<strong>{p.text}</strong>
          {p.changed && <span className="jp-mlops-ParamChanged"> (changed)</span>}
        </span>
      ))}
    </div>
  );
}

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
