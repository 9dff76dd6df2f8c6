import { changedFiles, sharedFolder } from '../changedFiles';

describe('the changed files of an extraction', () => {
  it('are shown from the folder they share', () => {
    const paths = [
      'work/pipelines/cls/pipeline.yaml',
      'work/pipelines/cls/cls/train.py',
      'work/pipelines/cls/tests/test_train.py'
    ];
    expect(sharedFolder(paths)).toBe('work/pipelines/cls/');
    expect(changedFiles(paths)).toEqual([
      { path: 'work/pipelines/cls/cls/train.py', shown: 'cls/train.py' },
      { path: 'work/pipelines/cls/pipeline.yaml', shown: 'pipeline.yaml' },
      { path: 'work/pipelines/cls/tests/test_train.py', shown: 'tests/test_train.py' }
    ]);
  });

  it('keep their whole path when they share no folder', () => {
    expect(sharedFolder(['a.py', 'b/c.py'])).toBe('');
    expect(changedFiles(['b/c.py', 'a.py']).map(f => f.shown)).toEqual(['a.py', 'b/c.py']);
    expect(sharedFolder([])).toBe('');
  });

  it('show a single file by its name', () => {
    expect(changedFiles(['p/q/r.py'])).toEqual([{ path: 'p/q/r.py', shown: 'r.py' }]);
  });
});
