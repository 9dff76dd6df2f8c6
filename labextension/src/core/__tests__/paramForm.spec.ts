import {
  changedLabel,
  formatParamValue,
  IStateStore,
  PARAMS_KEY,
  ParamStore,
  paramFields,
  paramType,
  parseField,
  parsePythonLiteral,
  runBlocker,
  runParams,
  withEdit
} from '../paramForm';

const PIPELINE = {
  params: { n_estimators: 100, rate: 1, test_size: 0.25, flag: false, layers: [8, 4], name: 'rf' },
  // JSON writes the float default 1.0 as 1: the server's param_types says what it is
  param_types: {
    n_estimators: 'int',
    rate: 'float',
    test_size: 'float',
    flag: 'bool',
    layers: 'list',
    name: 'str'
  }
};

describe('parameter types', () => {
  it('takes the type the server reports, else infers it from the default', () => {
    expect(paramType(1, 'float')).toBe('float');
    expect(paramType(1, 'nonsense')).toBe('int');
    expect([100, 0.5, true, 'x', [1], null, { a: 1 }].map(v => paramType(v))).toEqual([
      'int',
      'float',
      'bool',
      'str',
      'list',
      'any',
      'any'
    ]);
  });

  it('shows defaults as the parameters cell writes them', () => {
    expect(formatParamValue(1, 'float')).toBe('1.0');
    expect(formatParamValue(0.25, 'float')).toBe('0.25');
    expect(formatParamValue(true)).toBe('True');
    expect(formatParamValue(null)).toBe('None');
    expect(formatParamValue('rf')).toBe('rf');
    expect(formatParamValue([1, 2])).toBe('[1,2]');
  });
});

describe('parsing a field', () => {
  it('takes an integer, refuses 3.5 and abc with the server wording', () => {
    expect(parseField('n', ' 300 ', 'int')).toEqual({ value: 300, error: null });
    expect(parseField('n', '-2', 'int')).toEqual({ value: -2, error: null });
    expect(parseField('n', '3.5', 'int')).toEqual({
      value: null,
      error: "parameter 'n' expects an integer, got 3.5"
    });
    expect(parseField('n', 'abc', 'int').error).toBe("parameter 'n' expects an integer, got abc");
    expect(parseField('n', '', 'int').error).toBe(
      "parameter 'n' expects an integer, got an empty field"
    );
    expect(parseField('n', '1e3', 'int').error).not.toBeNull();
  });

  it('takes a number in any notation for a float', () => {
    expect(parseField('r', '1e-3', 'float')).toEqual({ value: 0.001, error: null });
    expect(parseField('r', '.5', 'float')).toEqual({ value: 0.5, error: null });
    expect(parseField('r', '2', 'float')).toEqual({ value: 2, error: null });
    expect(parseField('r', '0x10', 'float').error).toBe("parameter 'r' expects a number, got 0x10");
    expect(parseField('r', 'Infinity', 'float').error).not.toBeNull();
  });

  it('takes True/False for a bool', () => {
    expect(parseField('f', 'False', 'bool')).toEqual({ value: false, error: null });
    expect(parseField('f', 'true', 'bool')).toEqual({ value: true, error: null });
    expect(parseField('f', 'yes', 'bool').error).toBe(
      "parameter 'f' expects True or False, got yes"
    );
  });

  it('takes a JSON or Python list for a list', () => {
    expect(parseField('l', '[16, 8, 4]', 'list')).toEqual({ value: [16, 8, 4], error: null });
    expect(parseField('l', "['a', None, True,]", 'list')).toEqual({
      value: ['a', null, true],
      error: null
    });
    expect(parseField('l', '(1, 2)', 'list')).toEqual({ value: [1, 2], error: null });
    expect(parseField('l', '8', 'list').error).toBe("parameter 'l' expects a list, got 8");
    expect(parseField('l', '[1, 2', 'list').error).not.toBeNull();
  });

  it('keeps a string as typed, and reads any other value as a literal', () => {
    expect(parseField('s', ' keep spaces ', 'str')).toEqual({
      value: ' keep spaces ',
      error: null
    });
    expect(parseField('a', 'None', 'any')).toEqual({ value: null, error: null });
    expect(parseField('a', "{'k': 1}", 'any')).toEqual({ value: { k: 1 }, error: null });
    expect(parseField('a', 'plain words', 'any')).toEqual({ value: 'plain words', error: null });
  });

  it('reads Python literals with quotes inside strings', () => {
    expect(parsePythonLiteral('["it\'s", \'say "hi"\']')).toEqual({ value: ["it's", 'say "hi"'] });
    expect(parsePythonLiteral("'open")).toBeNull();
  });
});

describe('the form', () => {
  it('shows the defaults, nothing changed, nothing blocking', () => {
    const fields = paramFields(PIPELINE, {});
    expect(fields.map(f => f.text)).toEqual(['100', '1.0', '0.25', 'False', '[8,4]', 'rf']);
    expect(changedLabel(fields)).toBe('');
    expect(runBlocker(fields)).toBeNull();
    expect(runParams(fields)).toEqual({});
  });

  it('counts changed values and sends them with their JSON type', () => {
    const fields = paramFields(PIPELINE, {
      n_estimators: '1500',
      rate: '1e-3',
      test_size: '0.250',
      flag: 'True'
    });
    expect(changedLabel(fields)).toBe('3 changed');
    expect(fields.filter(f => f.changed).map(f => f.name)).toEqual([
      'n_estimators',
      'rate',
      'flag'
    ]);
    expect(runParams(fields)).toEqual({ n_estimators: 1500, rate: 0.001, flag: true });
  });

  it('blocks Run with the first invalid field, which counts as changed', () => {
    const fields = paramFields(PIPELINE, { n_estimators: '3.5', layers: '[1' });
    expect(runBlocker(fields)).toBe("parameter 'n_estimators' expects an integer, got 3.5");
    expect(changedLabel(fields)).toBe('2 changed');
    expect(fields.find(f => f.name === 'n_estimators')!.error).not.toBeNull();
  });

  it('keeps only texts that differ from the default', () => {
    const fields = paramFields(PIPELINE, {});
    const edits = withEdit({}, fields, 'n_estimators', '300');
    expect(edits).toEqual({ n_estimators: '300' });
    expect(withEdit(edits, fields, 'n_estimators', '100')).toEqual({});
    expect(withEdit(edits, fields, 'rate', '1.0')).toEqual({ n_estimators: '300' });
  });

  it('has no fields without a pipeline', () => {
    expect(paramFields(null, { n: '1' })).toEqual([]);
  });
});

class FakeStateDB implements IStateStore {
  readonly values = new Map<string, unknown>();
  failing = false;

  async fetch(id: string): Promise<unknown> {
    if (this.failing) {
      throw new Error('state database down');
    }
    return this.values.get(id);
  }

  async save(id: string, value: Record<string, string>): Promise<void> {
    if (this.failing) {
      throw new Error('state database down');
    }
    this.values.set(id, JSON.parse(JSON.stringify(value)));
  }

  async remove(id: string): Promise<void> {
    this.values.delete(id);
  }
}

describe('storage of edited values per notebook', () => {
  it('keeps them per notebook path across a reload (a new store on the same db)', async () => {
    const db = new FakeStateDB();
    await new ParamStore(db).save('work/a.ipynb', { n_estimators: '1500' });
    await new ParamStore(db).save('work/b.ipynb', { rate: '0.1' });
    expect(db.values.get(PARAMS_KEY + 'work/a.ipynb')).toEqual({ n_estimators: '1500' });
    const reloaded = new ParamStore(db);
    expect(await reloaded.load('work/a.ipynb')).toEqual({ n_estimators: '1500' });
    expect(await reloaded.load('work/b.ipynb')).toEqual({ rate: '0.1' });
    expect(await reloaded.load('work/c.ipynb')).toEqual({});
  });

  it('removes the entry when every value is back to its default', async () => {
    const db = new FakeStateDB();
    const store = new ParamStore(db);
    await store.save('a.ipynb', { n: '1' });
    await store.save('a.ipynb', {});
    expect(db.values.has(PARAMS_KEY + 'a.ipynb')).toBe(false);
  });

  it('ignores a stored value of another shape, and works on in memory when the db fails', async () => {
    const db = new FakeStateDB();
    db.values.set(PARAMS_KEY + 'a.ipynb', { n: 3 });
    expect(await new ParamStore(db).load('a.ipynb')).toEqual({});
    db.failing = true;
    const store = new ParamStore(db);
    expect(await store.load('b.ipynb')).toEqual({});
    await store.save('b.ipynb', { n: '2' });
    expect(await store.load('b.ipynb')).toEqual({ n: '2' });
  });
});
