import {
  defaultParamTexts,
  formatParamValue,
  mergeParamTexts,
  mlflowRunUrl,
  formatSeconds,
  paramKind,
  paramOverrides,
  parseParamText,
  stateLabel
} from '../format';

describe('durations', () => {
  it('reads like the terminal progress', () => {
    expect(formatSeconds(0.2665)).toBe('267 ms');
    expect(formatSeconds(4.72)).toBe('4.72 s');
    expect(formatSeconds(12.345)).toBe('12.3 s');
    expect(formatSeconds(65)).toBe('1 min 05 s');
    expect(formatSeconds(7380)).toBe('2 h 03 min');
    expect(formatSeconds(-1)).toBe('');
    expect(formatSeconds(NaN)).toBe('');
  });

  it('says done for ran', () => {
    expect(stateLabel('ran')).toBe('done');
    expect(stateLabel('not_run')).toBe('not run');
    expect(stateLabel('cached')).toBe('cached');
  });
});

describe('parameters form', () => {
  it('shows defaults as the parameters cell writes them', () => {
    expect(formatParamValue(0.25)).toBe('0.25');
    expect(formatParamValue(true)).toBe('True');
    expect(formatParamValue(null)).toBe('None');
    expect(formatParamValue('rf')).toBe('rf');
    expect(formatParamValue([1, 2])).toBe('[1,2]');
  });

  it('parses a typed value by the kind of its default', () => {
    expect(paramKind(100)).toBe('int');
    expect(paramKind(0.5)).toBe('float');
    expect(paramKind(false)).toBe('bool');
    expect(paramKind('x')).toBe('str');
    expect(paramKind(null)).toBe('json');
    expect(parseParamText(' 300 ', 'int')).toEqual({ value: 300, error: null });
    expect(parseParamText('0.3', 'float')).toEqual({ value: 0.3, error: null });
    expect(parseParamText('abc', 'float')).toEqual({
      value: null,
      error: 'expected a number'
    });
    expect(parseParamText('', 'int')).toEqual({
      value: null,
      error: 'expected a number'
    });
    expect(parseParamText('False', 'bool')).toEqual({
      value: false,
      error: null
    });
    expect(parseParamText('yes', 'bool')).toEqual({
      value: null,
      error: 'expected True or False'
    });
    expect(parseParamText(' keep spaces ', 'str')).toEqual({
      value: ' keep spaces ',
      error: null
    });
    expect(parseParamText('[1, 2]', 'json')).toEqual({
      value: [1, 2],
      error: null
    });
    expect(parseParamText('None', 'json')).toEqual({
      value: null,
      error: null
    });
    expect(parseParamText('plain', 'json')).toEqual({
      value: 'plain',
      error: null
    });
  });

  it('sends only the values that differ from the defaults', () => {
    const defaults = {
      test_size: 0.25,
      n_estimators: 100,
      max_depth: 5,
      flag: true
    };
    expect(
      paramOverrides(defaults, {
        test_size: '0.25',
        n_estimators: '300',
        max_depth: '5.0',
        flag: 'false'
      })
    ).toEqual({ params: { n_estimators: 300, flag: false }, error: null });
    expect(paramOverrides(defaults, {})).toEqual({ params: {}, error: null });
  });

  it('names the field that cannot be parsed', () => {
    expect(paramOverrides({ n_estimators: 100 }, { n_estimators: 'many' })).toEqual({
      params: null,
      error: 'n_estimators: expected a number'
    });
  });
});

describe('form texts when the defaults change', () => {
  it('keeps what the user typed and follows the defaults elsewhere', () => {
    const before = { a: 1, b: 0.5, gone: 'x' };
    const after = { a: 2, b: 0.5, added: true };
    expect(mergeParamTexts(before, after, { a: '1', b: '0.9', gone: 'x' })).toEqual({
      a: '2',
      b: '0.9',
      added: 'True'
    });
    expect(defaultParamTexts(after)).toEqual({ a: '2', b: '0.5', added: 'True' });
  });
});

describe('MLflow run links', () => {
  it('links into the MLflow UI when its URL is set, else gives none', () => {
    expect(mlflowRunUrl('http://localhost:5000/', '1', 'abc')).toBe(
      'http://localhost:5000/#/experiments/1/runs/abc'
    );
    expect(mlflowRunUrl('', '1', 'abc')).toBeNull();
    expect(mlflowRunUrl('http://localhost:5000', null, 'abc')).toBeNull();
  });
});
