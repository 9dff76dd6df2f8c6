/**
 * Promoting a model version from the panel, without the DOM: the reply of
 * `POST models/<name>/promote` checked, and the outcome in words (where the alias moved,
 * what the model gate decided; a refusal with the gate's reason).
 */

import { isRecord, ProtocolError } from './replies';
import { ApiError } from './types';

/** `POST models/<name>/promote`. */
export interface IPromoteRequest {
  name: string;
  version: string;
  alias: string;
  /** Move it even though the model gate rejected the version. */
  force: boolean;
  path: string;
}

/** The promotion's outcome: where the alias went, where it was, the gate's decision. */
export interface IPromotionJSON {
  name: string;
  version: string;
  alias: string;
  previous: string | null;
  gate: {
    /** passed | failed (moved anyway, forced) | none (no gate ran) */
    outcome: string;
    reason: string;
  };
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;
}

/** `POST models/<name>/promote`. */
export function parsePromotion(value: unknown): IPromotionJSON {
  if (!isRecord(value) || text(value.version) === null || text(value.alias) === null) {
    throw new ProtocolError('the promotion names no version or alias');
  }
  const gate = isRecord(value.gate) ? value.gate : {};
  return {
    name: text(value.name) ?? '',
    version: text(value.version)!,
    alias: text(value.alias)!,
    previous: text(value.previous),
    gate: { outcome: text(gate.outcome) ?? 'none', reason: text(gate.reason) ?? '' }
  };
}

/** What the panel shows after a promotion was asked for. */
export type PromotionOutcome =
  | { kind: 'promoted'; gate: string; text: string }
  | { kind: 'rejected'; text: string }
  | { kind: 'failed'; text: string };

function gateWords(gate: IPromotionJSON['gate']): string {
  const reason = gate.reason ? `: ${gate.reason}` : '';
  switch (gate.outcome) {
    case 'passed':
    case 'validated':
      return `gate validated${reason}`;
    case 'failed':
    case 'rejected':
      return `gate rejected, promoted anyway${reason}`;
    default:
      return 'no gate ran';
  }
}

/** "v3 is now @champion (was v2) — gate validated: …". */
export function promotedText(promotion: IPromotionJSON): string {
  const was = promotion.previous ? ` (was v${promotion.previous})` : '';
  return `v${promotion.version} is now @${promotion.alias}${was} — ${gateWords(promotion.gate)}`;
}

/** The outcome of a promotion reply or of its failure (409: the gate rejected the version). */
export function promotionOutcome(result: IPromotionJSON | unknown): PromotionOutcome {
  if (result instanceof ApiError) {
    return result.status === 409
      ? { kind: 'rejected', text: `gate rejected: ${result.message}` }
      : { kind: 'failed', text: result.message };
  }
  if (result instanceof Error) {
    return { kind: 'failed', text: result.message };
  }
  const promotion = result as IPromotionJSON;
  return {
    kind: 'promoted',
    gate: promotion.gate.outcome,
    text: promotedText(promotion)
  };
}
