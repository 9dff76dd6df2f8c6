/**
 * The DAG picture: `layoutDag` geometry drawn as SVG in theme colours (CSS classes in
 * style/base.css). Each box shows its step's state as an icon and a colour (the steps
 * list's look, `stepLook`); each edge the variables it carries. Each box is a focusable
 * button: click, Enter or Space goes to its cell. While extraction fails the last good
 * graph stays, its broken steps marked.
 */

import * as React from 'react';

import { IDagLayout, IDagNode, layoutDag, IDagInput } from '../core/dag';
import { stepLook } from '../core/stepStates';
import { StepState } from '../core/types';

export interface IDagViewProps {
  steps: IDagInput[];
  states: Record<string, StepState | undefined>;
  /** Steps that cannot be extracted (drawn in red, the graph being the last good one). */
  broken?: ReadonlySet<string>;
  onSelect: (step: string) => void;
  /** Shows an "Open in main area" button when given. */
  onOpen?: () => void;
}

/** A wide DAG shrinks to fit the panel down to this scale, then scrolls sideways. */
const MIN_SCALE = 0.7;
const NO_BROKEN: ReadonlySet<string> = new Set();

function DagNode(props: {
  node: IDagNode;
  state: StepState | undefined;
  broken: boolean;
  onSelect: (step: string) => void;
}) {
  const { node } = props;
  const look = stepLook(props.state, props.broken);
  const said = look.label ? `, ${look.label}` : '';
  return (
    <g
      className="jp-mlops-DagNode"
      data-step={node.name}
      data-state={look.state}
      transform={`translate(${node.x},${node.y})`}
      role="button"
      tabIndex={0}
      aria-label={`step ${node.name}${said}: go to the cell`}
      onClick={() => props.onSelect(node.name)}
      onKeyDown={event => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          props.onSelect(node.name);
        }
      }}
    >
      <title>{`${node.name}${said}`}</title>
      <rect width={node.width} height={node.height} rx={4} />
      <text
        className="jp-mlops-DagIcon"
        data-testid="mlops-dag-icon"
        x={16}
        y={node.height / 2}
        dominantBaseline="central"
        textAnchor="middle"
        aria-hidden="true"
      >
        {look.icon}
      </text>
      <text
        className="jp-mlops-DagName"
        x={(node.width + 16) / 2}
        y={node.height / 2}
        dominantBaseline="central"
        textAnchor="middle"
      >
        {node.name}
      </text>
    </g>
  );
}

function DagEdges(props: { layout: IDagLayout; markerId: string }) {
  return (
    <>
      {props.layout.edges.map(edge => (
        <path
          key={`${edge.from}->${edge.to}`}
          className="jp-mlops-DagEdge"
          data-from={edge.from}
          data-to={edge.to}
          d={edge.path}
          markerEnd={`url(#${props.markerId})`}
        />
      ))}
      {props.layout.edges.map(
        edge =>
          edge.labelBox && (
            <g
              key={`${edge.from}->${edge.to}`}
              className="jp-mlops-DagLabel"
              data-from={edge.from}
              data-to={edge.to}
            >
              <rect {...edge.labelBox} rx={2} />
              <text
                x={edge.labelBox.x + edge.labelBox.width / 2}
                y={edge.labelBox.y + edge.labelBox.height / 2}
                dominantBaseline="central"
                textAnchor="middle"
              >
                {edge.label}
              </text>
            </g>
          )
      )}
    </>
  );
}

export function DagView(props: IDagViewProps): JSX.Element | null {
  const layout = React.useMemo(() => layoutDag(props.steps), [props.steps]);
  // Several graphs can be on the page (panel and main area): each its own arrow marker.
  const markerId = `jp-mlops-dag-arrow${React.useId().replace(/:/g, '')}`;
  if (!layout.nodes.length) {
    return null;
  }
  const broken = props.broken ?? NO_BROKEN;
  const stale = broken.size > 0;
  const edges = layout.edges.length;
  const label = `Step graph: ${layout.nodes.length} steps, ${edges} dependenc${edges === 1 ? 'y' : 'ies'}`;
  return (
    <div className="jp-mlops-DagBox" data-testid="mlops-dag-box" data-stale={stale}>
      {(props.onOpen || stale) && (
        <div className="jp-mlops-DagHead">
          <span className="jp-mlops-DagNote" data-testid="mlops-dag-note">
            {stale ? 'Last good graph; steps in red cannot be extracted.' : ''}
          </span>
          {props.onOpen && (
            <button
              className="jp-mlops-LinkButton"
              data-testid="mlops-dag-open"
              title="Open the step graph in the main area"
              onClick={props.onOpen}
            >
              Open in main area
            </button>
          )}
        </div>
      )}
      <div className="jp-mlops-DagScroll">
        <svg
          className="jp-mlops-Dag"
          data-testid="mlops-dag"
          data-stale={stale}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          width={layout.width}
          height={layout.height}
          style={{ minWidth: Math.round(layout.width * MIN_SCALE) }}
          role="group"
          aria-label={label}
        >
          <defs>
            <marker
              id={markerId}
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
          <DagEdges layout={layout} markerId={markerId} />
          {layout.nodes.map(node => (
            <DagNode
              key={node.name}
              node={node}
              state={props.states[node.name]}
              broken={broken.has(node.name)}
              onSelect={props.onSelect}
            />
          ))}
        </svg>
      </div>
    </div>
  );
}
