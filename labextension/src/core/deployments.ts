/**
 * The Deployments section's replies (`GET deployments`, `POST deployments/deploy`,
 * `GET deployments/rollouts/<id>`, `POST deployments/rollback`, see
 * `jupyter_mlops/server/deployments.py`) checked into the shapes of `types.ts`, and the
 * texts the section shows. Pure functions.
 */

import { isRecord, ProtocolError } from './replies';
import {
  IAliasMoveJSON,
  IDeployTargetJSON,
  IDeploymentsJSON,
  IRolloutJSON,
  IServedVersionJSON,
  IServiceStateJSON,
  ITargetStateJSON,
  IVerificationJSON,
  RolloutStatus
} from './types';

/** The page of the docs (docs/ in the repository) that explains the `deploy:` section. */
export const DEPLOY_DOCS = 'docs/serving.md';

/** The smallest `deploy:` section, shown in the empty state. */
export const DEPLOY_EXAMPLE = 'deploy: {prod: {url: http://127.0.0.1:8080}}';

/** The strategy of each kind that replaces what it holds in one verified step. */
const ONE_STEP: Record<string, string> = { batch: 'swap', package: 'replace', mlflow: 'replace' };

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function items(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function parseServed(value: Record<string, unknown>): IServedVersionJSON {
  const stats = isRecord(value.stats) ? value.stats : null;
  return {
    version: text(value.version) ?? '?',
    share: num(value.share) ?? 0,
    role: text(value.role),
    stats: stats && {
      requests: num(stats.requests) ?? 0,
      errors: num(stats.errors) ?? 0,
      error_rate: num(stats.error_rate) ?? 0,
      p99_ms: num(stats.p99_ms)
    }
  };
}

function parseService(value: unknown, url: string): IServiceStateJSON {
  const service = isRecord(value) ? value : {};
  return {
    url: text(service.url) ?? url,
    reachable: service.reachable === true,
    problem: text(service.problem),
    alias_version: text(service.alias_version),
    ready: service.ready === true,
    rollout: text(service.rollout),
    versions: items(service.versions).map(parseServed)
  };
}

function parseMove(value: Record<string, unknown>): IAliasMoveJSON {
  return {
    time: text(value.time) ?? '',
    user: text(value.user) ?? '',
    alias: text(value.alias) ?? '',
    from: text(value.from),
    to: text(value.to),
    reason: text(value.reason) ?? '',
    rollout: text(value.rollout),
    note: text(value.note)
  };
}

function parseState(value: unknown): ITargetStateJSON {
  const state = isRecord(value) ? value : {};
  return {
    version: text(state.version),
    where: text(state.where) ?? '',
    detail: text(state.detail) ?? '',
    problem: text(state.problem)
  };
}

function parseVerification(value: unknown): IVerificationJSON | null {
  if (!isRecord(value)) {
    return null;
  }
  const metrics: Record<string, number> = {};
  for (const [key, measured] of Object.entries(isRecord(value.metrics) ? value.metrics : {})) {
    const n = num(measured);
    if (n !== null) {
      metrics[key] = n;
    }
  }
  return {
    rollout: text(value.rollout),
    outcome: text(value.outcome),
    reason: text(value.reason) ?? '',
    time: text(value.time) ?? '',
    metrics
  };
}

function parseTarget(value: Record<string, unknown>): IDeployTargetJSON {
  const url = text(value.url) ?? '';
  const kind = text(value.kind) ?? 'rest';
  const rest = kind === 'rest';
  return {
    name: text(value.name) ?? '?',
    kind,
    alias: text(value.alias) ?? '',
    url: rest ? url : '',
    strategy: text(value.strategy) ?? ONE_STEP[kind] ?? '',
    steps: Array.isArray(value.steps) ? value.steps.filter(s => typeof s === 'number') : [],
    service: rest ? parseService(value.service, url) : null,
    state: rest ? null : parseState(value.state),
    verification: parseVerification(value.verification),
    history: items(value.history).map(parseMove),
    active_rollout: text(value.active_rollout)
  };
}

/** The version a target serves or holds now (its alias's, as the service or state says). */
export function heldVersion(target: IDeployTargetJSON): string | null {
  return target.service?.alias_version ?? target.state?.version ?? null;
}

/** Where a target is, for people: the service URL, the table, the package folder, … */
export function targetWhere(target: IDeployTargetJSON): string {
  return target.service ? target.url : (target.state?.where ?? '');
}

/** "last rollout promoted · rows 1000 · null_fraction 0" (null before the first). */
export function verificationText(verification: IVerificationJSON | null): string | null {
  if (!verification) {
    return null;
  }
  const outcome = (verification.outcome ?? 'unknown').replace('_', ' ');
  const checks = Object.entries(verification.metrics)
    .slice(0, 6)
    .map(([name, value]) => `${name} ${Number.isInteger(value) ? value : value.toPrecision(3)}`);
  return [`last rollout ${outcome}`, ...checks].join(' · ');
}

/** `GET deployments?path=`. */
export function parseDeployments(value: unknown): IDeploymentsJSON {
  if (!isRecord(value) || !Array.isArray(value.targets)) {
    throw new ProtocolError('the deployments reply has no targets');
  }
  return {
    pipeline: text(value.pipeline),
    model: text(value.model),
    problem: text(value.problem),
    targets: items(value.targets).map(parseTarget)
  };
}

const ROLLOUT_STATUSES: ReadonlySet<string> = new Set([
  'running',
  'promoted',
  'rolled_back',
  'failed'
]);

/** `POST deployments/deploy`, `GET deployments/rollouts/<id>`. */
export function parseRollout(value: unknown): IRolloutJSON {
  if (!isRecord(value) || typeof value.id !== 'string') {
    throw new ProtocolError('the rollout has no id');
  }
  const status = text(value.status) ?? '';
  const result = isRecord(value.result) ? value.result : {};
  return {
    id: value.id,
    target: text(value.target) ?? '',
    version: text(value.version) ?? text(result.candidate),
    status: ROLLOUT_STATUSES.has(status) ? (status as RolloutStatus) : 'running',
    stopping: value.stopping === true,
    progress: items(value.progress).map(line => ({
      kind: text(line.kind) ?? '',
      message: text(line.message) ?? ''
    })),
    reason: text(result.reason),
    error: text(value.error)
  };
}

/** `POST deployments/rollback`: the line saying what moved. */
export function parseRollback(value: unknown): string {
  if (!isRecord(value) || typeof value.message !== 'string') {
    throw new ProtocolError('the rollback reply has no message');
  }
  return value.message;
}

/** A traffic share or an error rate as a percentage: "90 %", "0.25 %". */
export function formatPercent(fraction: number): string {
  const percent = fraction * 100;
  return `${Number.isInteger(percent) ? percent : percent.toPrecision(2)} %`;
}

/** A latency: "12.3 ms"; "–" when none was measured. */
export function formatMs(ms: number | null): string {
  return ms === null ? '–' : `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
}

/** "production 1 → 2" ("(unset)" for no version). */
export function moveText(move: IAliasMoveJSON): string {
  return `${move.alias} ${move.from ?? '(unset)'} → ${move.to ?? '(unset)'}`;
}

/** An ISO time in the browser's local time zone (as the Models section shows dates). */
export function localTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** The versions that answer traffic, largest share first, then the others (shadow, standby). */
export function splitOf(service: IServiceStateJSON): {
  serving: IServedVersionJSON[];
  idle: IServedVersionJSON[];
} {
  const serving = service.versions.filter(v => v.share > 0).sort((a, b) => b.share - a.share);
  return { serving, idle: service.versions.filter(v => v.share <= 0) };
}

/** Why a target's service shows no state (its problem names the URL when it has one). */
export function serviceDown(service: IServiceStateJSON): string {
  return `Not reachable: ${service.problem ?? `no answer from ${service.url}`}`;
}

/** What the rollout is doing while it runs, asked to stop. */
export const STOPPING = 'stopping: the rollout rolls back at its next step…';

/** One line for a finished rollout or one stopping (null while it just runs). */
export function rolloutOutcome(rollout: IRolloutJSON): string | null {
  switch (rollout.status) {
    case 'running':
      return rollout.stopping ? STOPPING : null;
    case 'promoted':
      return `Promoted: version ${rollout.version ?? 'the candidate'} now serves target ${rollout.target}.`;
    case 'rolled_back':
      return `Rolled back: ${rollout.error ?? rollout.reason ?? 'a check failed'}`;
    case 'failed':
      return `The rollout could not run: ${rollout.error ?? 'unknown error'}`;
  }
}

/** The question asked before a rollout starts. */
export function deployQuestion(target: IDeployTargetJSON, version: string | null): string {
  const which = version ? `version ${version}` : 'the version alias challenger points at';
  if (!target.service) {
    return (
      `Deploy ${which} to ${target.kind} target ${target.name} (${targetWhere(target)}, alias ` +
      `${target.alias})? It is verified before it replaces what the target holds; a failed ` +
      'check keeps the current one.'
    );
  }
  return (
    `Roll ${which} out to target ${target.name} (${target.strategy}, alias ` +
    `${target.alias}, service ${target.url})? A failed check rolls it back by itself.`
  );
}

/** The question asked before a rollback. */
export function rollbackQuestion(target: IDeployTargetJSON): string {
  const now = heldVersion(target) ?? target.history[0]?.to ?? '?';
  const follows = target.service
    ? `The service at ${target.url} follows it.`
    : `The ${target.kind} target's previous ${target.kind === 'batch' ? 'table' : 'build'} is restored.`;
  return (
    `Move alias ${target.alias} (now version ${now}) back to the version it held before? ` + follows
  );
}
