/**
 * Check and normalize the server's JSON replies (see `jupyter_mlops/handlers.py`) into the
 * shapes of `types.ts`. A reply of the wrong shape raises ProtocolError, so a server of
 * another version fails with a clear message instead of a blank panel. Pure functions.
 */

import {
  IExtractReply,
  IGateOutcome,
  IModelVersionJSON,
  IModelsJSON,
  IRunHistory,
  IRunRecord,
  IRunStatusJSON,
  IStepStatus,
  RunStatus,
  StepState
} from './types';

/** A reply that does not have the documented shape. */
export class ProtocolError extends Error {
  constructor(what: string) {
    super(`unexpected reply from the server extension: ${what}`);
    this.name = 'ProtocolError';
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every(v => typeof v === 'string');
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) {
    throw new ProtocolError(`${what} is not an object`);
  }
  return value;
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;
}

function numbers(value: unknown): Record<string, number> {
  const result: Record<string, number> = {};
  if (isRecord(value)) {
    for (const [key, v] of Object.entries(value)) {
      if (typeof v === 'number') {
        result[key] = v;
      }
    }
  }
  return result;
}

function strings(value: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (isRecord(value)) {
    for (const [key, v] of Object.entries(value)) {
      const t = text(v);
      if (t !== null) {
        result[key] = t;
      }
    }
  }
  return result;
}

const STEP_STATES: ReadonlySet<string> = new Set([
  'waiting',
  'running',
  'ran',
  'cached',
  'failed',
  'not_run',
  'cancelled'
]);

/** A step state as the panel knows it; "done" reads as "ran", anything unknown as waiting. */
export function stepState(value: unknown): StepState {
  if (value === 'done') {
    return 'ran';
  }
  return typeof value === 'string' && STEP_STATES.has(value) ? (value as StepState) : 'waiting';
}

/** The run's status; `cancelling` (and anything unknown) still counts as running. */
export function runStatus(value: unknown): RunStatus {
  return value === 'succeeded' || value === 'failed' || value === 'cancelled' ? value : 'running';
}

function stepStatuses(value: unknown): Record<string, IStepStatus> {
  const steps: Record<string, IStepStatus> = {};
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.filter(isRecord).map(s => [String(s.name), s])
    : isRecord(value)
      ? Object.entries(value)
      : [];
  for (const [name, step] of entries) {
    const fields = isRecord(step) ? step : {};
    steps[name] = {
      state: stepState(fields.state ?? fields.status),
      seconds: typeof fields.seconds === 'number' ? fields.seconds : 0
    };
  }
  return steps;
}

function gateOutcome(value: unknown): IGateOutcome | null {
  if (!isRecord(value) || typeof value.outcome !== 'string') {
    return null;
  }
  return {
    outcome: value.outcome,
    reasons: isStringArray(value.reasons) ? value.reasons : []
  };
}

/** A run snapshot (`POST run`, `GET run/<id>`, `DELETE run/<id>`). */
export function parseRunSnapshot(value: unknown): IRunStatusJSON {
  const reply = record(value, 'the run');
  if (typeof reply.id !== 'string') {
    throw new ProtocolError('the run has no id');
  }
  const summary = isRecord(reply.summary) ? reply.summary : {};
  return {
    id: reply.id,
    path: text(reply.path) ?? '',
    pipeline: text(reply.pipeline) ?? '',
    status: runStatus(reply.status),
    elapsed: typeof reply.elapsed === 'number' ? reply.elapsed : 0,
    steps: stepStatuses(reply.steps),
    log: isStringArray(reply.log)
      ? reply.log
      : typeof reply.log === 'string'
        ? reply.log.split('\n')
        : [],
    recording: reply.recording === true,
    run_id: text(reply.mlflow_run_id) ?? text(summary.run_id),
    model_version: text(summary.model_version),
    metrics: numbers(summary.metrics),
    gate: gateOutcome(summary.gates),
    error: text(reply.error) ?? text(summary.error),
    params: isRecord(reply.params) ? reply.params : null
  };
}

/** `GET run`: the runs the server remembers. */
export function parseRunList(value: unknown): IRunStatusJSON[] {
  const reply = record(value, 'the run list');
  if (!Array.isArray(reply.runs)) {
    throw new ProtocolError('the run list has no runs');
  }
  return reply.runs.map(parseRunSnapshot);
}

function parseRunRecord(value: unknown): IRunRecord {
  const run = record(value, 'a recorded run');
  return {
    id: text(run.id) ?? '',
    name: text(run.name),
    start: text(run.start),
    end: text(run.end),
    status: text(run.status) ?? '',
    mlops_status: text(run.mlops_status),
    model_version: text(run.model_version),
    gate: text(run.gate),
    metrics: numbers(run.metrics),
    params: strings(run.params),
    started_from: text(run.started_from),
    error: text(run.error)
  };
}

/** `GET runs`: recent runs recorded in MLflow. */
export function parseRunHistory(value: unknown): IRunHistory {
  const reply = record(value, 'the run history');
  if (!Array.isArray(reply.runs)) {
    throw new ProtocolError('the run history has no runs');
  }
  return {
    pipeline: text(reply.pipeline) ?? '',
    experiment_id: text(reply.experiment_id),
    runs: reply.runs.map(parseRunRecord)
  };
}

function parseModelVersion(value: unknown): IModelVersionJSON {
  const version = record(value, 'a model version');
  return {
    version: text(version.version) ?? '?',
    aliases: isStringArray(version.aliases) ? [...version.aliases].sort() : [],
    created_ms: typeof version.created_ms === 'number' ? version.created_ms : 0,
    run_id: text(version.run_id),
    pipeline_run_id: text(version.pipeline_run_id),
    metrics: numbers(version.metrics),
    params: strings(version.params),
    gate: text(version.gate),
    gate_reasons: text(version.gate_reasons),
    gates: strings(version.gates)
  };
}

/** `GET models/<name>`: registered versions, newest first. */
export function parseModels(value: unknown): IModelsJSON {
  const reply = record(value, 'the model list');
  if (!Array.isArray(reply.versions)) {
    throw new ProtocolError('the model list has no versions');
  }
  return {
    name: text(reply.name) ?? '',
    aliases: strings(reply.aliases),
    versions: reply.versions.map(parseModelVersion),
    models: isStringArray(reply.models) ? reply.models : [],
    step: text(reply.step)
  };
}

/** `POST extract`. */
export function parseExtract(value: unknown): IExtractReply {
  const reply = record(value, 'the extraction');
  if (typeof reply.folder !== 'string') {
    throw new ProtocolError('the extraction names no folder');
  }
  return {
    pipeline: text(reply.pipeline) ?? '',
    folder: reply.folder,
    steps: isStringArray(reply.steps) ? reply.steps : [],
    changed: isStringArray(reply.changed) ? reply.changed : [],
    warnings: isStringArray(reply.warnings) ? reply.warnings : []
  };
}

/** `GET version`. */
export function parseVersion(value: unknown): string {
  const reply = record(value, 'the version');
  if (typeof reply.version !== 'string') {
    throw new ProtocolError('the version reply has no version');
  }
  return reply.version;
}
