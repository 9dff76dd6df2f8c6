/**
 * Two recorded runs side by side: every parameter (those that differ marked "≠ differs"
 * in words, not colour alone) and every metric with the newer run's delta and whether it
 * is better or worse; and the small "vs champion / vs challenger" line of one run.
 */

import * as React from 'react';

import {
  compareMetrics,
  compareParams,
  formatDelta,
  formatMetric,
  IAliasComparison,
  IMetricDelta
} from '../core/compare';
import { formatDateTime } from '../core/format';
import { IRunRecord } from '../core/types';

const VERDICT_ICONS: Record<string, string> = { better: '▲', worse: '▼', same: '=' };

/** "▲ better", "▼ worse", "= same" (the word always shown). */
export function VerdictWord(props: { delta: IMetricDelta }): JSX.Element | null {
  const { verdict, direction } = props.delta;
  if (!verdict) {
    return null;
  }
  return (
    <span className="jp-mlops-Verdict" data-verdict={verdict} title={`${direction} is better`}>
      {VERDICT_ICONS[verdict]} {verdict}
    </span>
  );
}

function runTitle(run: IRunRecord): string {
  const when = formatDateTime(run.start);
  return `${run.id.slice(0, 8)}${when ? ` · ${when}` : ''}`;
}

function cell(value: string | number | null): string {
  return value === null ? '—' : typeof value === 'number' ? formatMetric(value) : value;
}

export interface ICompareViewProps {
  /** The older run (a) and the newer one (b): deltas are b − a. */
  runs: [IRunRecord, IRunRecord];
  onClose: () => void;
}

export function CompareView(props: ICompareViewProps): JSX.Element {
  const [a, b] = props.runs;
  const params = compareParams(a.params, b.params);
  const metrics = compareMetrics(a.metrics, b.metrics);
  const differing = params.filter(p => p.differs).length;
  return (
    <section
      className="jp-mlops-Compare"
      data-testid="mlops-compare"
      aria-label="Comparison of two runs"
    >
      <div className="jp-mlops-SectionHead">
        <h4>
          Comparison · {differing === 1 ? '1 parameter differs' : `${differing} parameters differ`}
        </h4>
        <button
          className="jp-mlops-LinkButton"
          data-testid="mlops-compare-close"
          onClick={props.onClose}
        >
          Close
        </button>
      </div>
      <table className="jp-mlops-CompareTable">
        <thead>
          <tr>
            <th scope="col"></th>
            <th scope="col" data-testid="mlops-compare-a">
              {runTitle(a)}
            </th>
            <th scope="col" data-testid="mlops-compare-b">
              {runTitle(b)}
            </th>
            <th scope="col">Δ (right − left)</th>
          </tr>
        </thead>
        <tbody>
          <tr className="jp-mlops-CompareGroup">
            <th scope="rowgroup" colSpan={4}>
              Parameters
            </th>
          </tr>
          {params.map(p => (
            <tr
              key={`p-${p.name}`}
              data-testid="mlops-compare-param"
              data-param={p.name}
              data-differs={p.differs}
              className={p.differs ? 'jp-mod-differs' : undefined}
            >
              <th scope="row">{p.name}</th>
              <td>{cell(p.a)}</td>
              <td>{cell(p.b)}</td>
              <td>{p.differs ? <strong>≠ differs</strong> : 'same'}</td>
            </tr>
          ))}
          <tr className="jp-mlops-CompareGroup">
            <th scope="rowgroup" colSpan={4}>
              Metrics
            </th>
          </tr>
          {metrics.map(m => (
            <tr
              key={`m-${m.name}`}
              data-testid="mlops-compare-metric"
              data-metric={m.name}
              data-verdict={m.verdict ?? 'none'}
            >
              <th scope="row">{m.name}</th>
              <td>{cell(m.a)}</td>
              <td>{cell(m.b)}</td>
              <td>
                {m.delta === null ? '—' : formatDelta(m.delta)} <VerdictWord delta={m} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** "vs champion v2: accuracy +0.01 ▲ better, …" for each alias the run is compared with. */
export function AliasDeltas(props: { comparisons: IAliasComparison[] }): JSX.Element | null {
  if (!props.comparisons.length) {
    return null;
  }
  return (
    <div className="jp-mlops-AliasDeltas">
      {props.comparisons.map(c => (
        <div
          key={`${c.model}@${c.alias}`}
          data-testid="mlops-run-vs"
          data-alias={c.alias}
          data-model={c.model}
        >
          <span className="jp-mlops-AliasDeltasHead">
            vs {c.aliases.join(' & ')} v{c.version}:
          </span>{' '}
          {c.deltas.map((d, i) => (
            <span key={d.name} className="jp-mlops-AliasDelta" data-metric={d.name}>
              {i > 0 && ', '}
              {d.name} {formatDelta(d.delta!)} <VerdictWord delta={d} />
            </span>
          ))}
        </div>
      ))}
    </div>
  );
}
