/**
 * Why the notebook cannot run now, in the words "Run disabled: …" shows.
 */
import { notRunnableReason } from '../state';

const ROW = { name: 'train' } as never;

describe('notRunnableReason', () => {
  it('names extraction errors, a failed scan and a notebook without steps', () => {
    expect(notRunnableReason({ scan: 'errors', rows: [ROW], scanMessage: null })).toBe(
      'the notebook cannot be extracted; fix the errors shown on its steps and cells'
    );
    expect(notRunnableReason({ scan: 'failed', rows: [], scanMessage: 'server said 500' })).toBe(
      'the notebook could not be scanned: server said 500'
    );
    expect(notRunnableReason({ scan: 'ok', rows: [], scanMessage: null })).toBe(
      'no step yet; mark a cell with %%mlstep NAME'
    );
  });

  it('says nothing when it can run, or while a scan is under way', () => {
    expect(notRunnableReason({ scan: 'ok', rows: [ROW], scanMessage: null })).toBeNull();
    expect(notRunnableReason({ scan: 'scanning', rows: [ROW], scanMessage: null })).toBeNull();
    expect(notRunnableReason({ scan: 'idle', rows: [], scanMessage: null })).toBeNull();
  });
});
