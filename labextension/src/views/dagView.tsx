/**
 * The DAG picture: `layoutDag` geometry drawn as SVG in theme colours (CSS classes in
 * style/base.css). Each box is a focusable button: click, Enter or Space goes to its cell.
 */

import * as React from 'react';

import { layoutDag, IDagInput } from '../core/dag';
import { StepState } from '../core/types';

export interface IDagViewProps {
  steps: IDagInput[];
  states: Record<string, StepState | undefined>;
  onSelect: (step: string) => void;
}

const MARKER_ID = 'jp-mlops-dag-arrow';
/** A wide DAG shrinks to fit the panel down to this scale, then scrolls sideways. */
const MIN_SCALE = 0.7;

export function DagView(props: IDagViewProps): JSX.Element | null {
  const layout = React.useMemo(() => layoutDag(props.steps), [props.steps]);
  if (!layout.nodes.length) {
    return null;
  }
  const edges = layout.edges.length;
  const label = `Step graph: ${layout.nodes.length} steps, ${edges} dependenc${edges === 1 ? 'y' : 'ies'}`;
  return (
    <div className="jp-mlops-DagScroll">
      <svg
        className="jp-mlops-Dag"
        data-testid="mlops-dag"
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        width={layout.width}
        height={layout.height}
        style={{ minWidth: Math.round(layout.width * MIN_SCALE) }}
        role="group"
        aria-label={label}
      >
        <defs>
          <marker
            id={MARKER_ID}
            viewBox="0 0 8 8"
            refX="8"
            refY="4"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M0,0 L8,4 L0,8 z" className="jp-mlops-DagArrow" />
          </marker>
        </defs>
        {layout.edges.map(edge => (
          <path
            key={`${edge.from}->${edge.to}`}
            className="jp-mlops-DagEdge"
            data-from={edge.from}
            data-to={edge.to}
            d={edge.path}
            markerEnd={`url(#${MARKER_ID})`}
          />
        ))}
        {layout.nodes.map(node => (
          <g
            key={node.name}
            className="jp-mlops-DagNode"
            data-step={node.name}
            data-state={props.states[node.name] ?? 'none'}
            transform={`translate(${node.x},${node.y})`}
            role="button"
            tabIndex={0}
            aria-label={`go to step ${node.name}`}
            onClick={() => props.onSelect(node.name)}
            onKeyDown={event => {
              if (event.key === 'Enter' || event.key === ' ') {
                event.preventDefault();
                props.onSelect(node.name);
              }
            }}
          >
            <title>{node.name}</title>
            <rect width={node.width} height={node.height} rx={4} />
            <text
              x={node.width / 2}
              y={node.height / 2}
              dominantBaseline="central"
              textAnchor="middle"
            >
              {node.name}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}
