/** The promotion reply and its outcome in words (promoted with the gate, or refused). */
import { parsePromotion, promotionOutcome } from '../promotion';
import { ProtocolError } from '../replies';
import { ApiError } from '../types';

describe('promotion', () => {
  it('says where the alias moved and what the gate decided', () => {
    const reply = parsePromotion({
      name: 'classification',
      version: 3,
      alias: 'champion',
      previous: '2',
      gate: { outcome: 'passed', reason: 'accuracy 0.95 >= 0.9' }
    });
    expect(promotionOutcome(reply)).toEqual({
      kind: 'promoted',
      gate: 'passed',
      text: 'v3 is now @champion (was v2) — gate validated: accuracy 0.95 >= 0.9'
    });
    const forced = parsePromotion({ ...reply, previous: null, gate: { outcome: 'failed' } });
    expect(promotionOutcome(forced)).toMatchObject({
      text: 'v3 is now @champion — gate rejected, promoted anyway'
    });
    const none = parsePromotion({ version: '1', alias: 'champion' });
    expect(promotionOutcome(none)).toMatchObject({
      gate: 'none',
      text: expect.stringContaining('no gate ran')
    });
  });

  it('gives the gate reason of a refusal, and other failures as they are', () => {
    expect(promotionOutcome(new ApiError(409, 'accuracy 0.8 < 0.9'))).toEqual({
      kind: 'rejected',
      text: 'gate rejected: accuracy 0.8 < 0.9'
    });
    expect(promotionOutcome(new ApiError(404, 'no model x'))).toEqual({
      kind: 'failed',
      text: 'no model x'
    });
  });

  it('refuses a reply without version', () => {
    expect(() => parsePromotion({ alias: 'champion' })).toThrow(ProtocolError);
  });
});
