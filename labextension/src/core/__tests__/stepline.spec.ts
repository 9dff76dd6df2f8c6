import {
  checkStepName,
  identifiersIn,
  isIdentifier,
  isStepSource,
  markSource,
  proposeStepName,
  slugify,
  stepNameOf,
  unmarkSource
} from '../stepline';

describe('reading the %%mlstep line', () => {
  it('recognizes step cells like the Python side (leading blank lines ignored)', () => {
    expect(isStepSource('%%mlstep load\ndf = 1')).toBe(true);
    expect(isStepSource('\n\n%%mlstep load\ndf = 1')).toBe(true);
    expect(isStepSource('%%mlstep')).toBe(true);
    expect(isStepSource('%%mlsteps load')).toBe(false);
    expect(isStepSource('x = 1\n%%mlstep load')).toBe(false);
    expect(isStepSource('# %%mlstep load')).toBe(false);
  });

  it('reads the step name, not the options', () => {
    expect(stepNameOf('%%mlstep train --model model\nmodel.fit()')).toBe('train');
    expect(stepNameOf('%%mlstep   split  \nx')).toBe('split');
    expect(stepNameOf('%%mlstep --inputs a\nx')).toBeNull();
    expect(stepNameOf('%%mlstep')).toBeNull();
    expect(stepNameOf('x = 1')).toBeNull();
  });
});

describe('marking and unmarking', () => {
  it('adds the line above the body and removes exactly it', () => {
    const body = 'df = load()\ndf.shape';
    const marked = markSource(body, 'load_data');
    expect(marked).toBe('%%mlstep load_data\ndf = load()\ndf.shape');
    expect(unmarkSource(marked)).toBe(body);
  });

  it('keeps options out of the body when unmarking', () => {
    expect(unmarkSource('%%mlstep train --model m\nm = fit()')).toBe('m = fit()');
    expect(unmarkSource('%%mlstep only')).toBe('');
  });

  it('leaves a cell that is not a step alone and refuses to mark a step twice', () => {
    expect(unmarkSource('x = 1')).toBe('x = 1');
    expect(() => markSource('%%mlstep a\nx', 'b')).toThrow('already a step');
  });

  it('marks an empty cell', () => {
    expect(markSource('', 'empty')).toBe('%%mlstep empty\n');
    expect(stepNameOf(markSource('', 'empty'))).toBe('empty');
  });
});

describe('step name rules', () => {
  it('accepts Python identifiers, soft keywords and non-ASCII letters', () => {
    for (const name of [
      'load',
      '_private',
      'train2',
      'match',
      'case',
      'type',
      'données',
      'X_train'
    ]) {
      expect(checkStepName(name, [])).toBeNull();
      expect(isIdentifier(name)).toBe(true);
    }
  });

  it('refuses what extraction refuses, saying why', () => {
    expect(checkStepName('', [])).toBe('a step needs a name');
    expect(checkStepName('   ', [])).toBe('a step needs a name');
    expect(checkStepName('class', [])).toBe("'class' is a Python keyword");
    expect(checkStepName('None', [])).toBe("'None' is a Python keyword");
    expect(checkStepName('2fast', [])).toMatch(/'2fast' is not a valid Python identifier/);
    expect(checkStepName('load-data', [])).toMatch(/not a valid Python identifier/);
    expect(checkStepName('load data', [])).toMatch(/not a valid Python identifier/);
    expect(checkStepName('common', [])).toMatch(/'common' is reserved/);
  });

  it('refuses a duplicate name', () => {
    expect(checkStepName('train', ['load', 'train'])).toBe("a step named 'train' already exists");
    expect(checkStepName(' train ', new Set(['train']))).toBe(
      "a step named 'train' already exists"
    );
    expect(checkStepName('train2', ['train'])).toBeNull();
  });
});

describe('proposing a name', () => {
  it('slugifies headings and comments into a few snake_case words', () => {
    expect(slugify('Load the data')).toBe('load_data');
    expect(slugify('Train/test split')).toBe('train_test_split');
    expect(slugify('Feature engineering v2!')).toBe('feature_engineering_v2');
    expect(slugify('A quick look (not a step)')).toBe('quick_look');
    expect(slugify('(only an aside)')).toBe('');
    expect(slugify('Évaluer le modèle')).toBe('evaluer_le_modele');
    expect(slugify('trainModel')).toBe('train_model');
    expect(slugify('2 models')).toBe('step_2_models');
    expect(slugify('!!!')).toBe('');
  });

  it('prefers the leading comment, then the heading above, then the assigned name', () => {
    expect(
      proposeStepName({
        source: '# Fit the forest\nm = fit()',
        heading: 'Train',
        steps: []
      })
    ).toBe('fit_forest');
    expect(
      proposeStepName({
        source: 'm = fit()',
        heading: 'Train the model',
        steps: []
      })
    ).toBe('train_model');
    expect(proposeStepName({ source: 'X_train, y = split(df)', steps: [] })).toBe('make_x_train');
    expect(proposeStepName({ source: 'print(1)', steps: ['a'], cellNumber: 7 })).toBe('step_7');
  });

  it('never proposes a taken name or one the code uses', () => {
    expect(
      proposeStepName({
        source: 'x = 1',
        heading: 'Load data',
        steps: ['load_data']
      })
    ).toBe('load_data_2');
    expect(
      proposeStepName({
        source: 'x = 1',
        heading: 'Load data',
        steps: ['load_data', 'load_data_2']
      })
    ).toBe('load_data_3');
    const avoid = identifiersIn('from sklearn.model_selection import train_test_split');
    expect(
      proposeStepName({
        source: 'a = 1',
        heading: 'Train/test split',
        steps: [],
        avoid
      })
    ).toBe('train_test_split_2');
  });

  it('always proposes a valid name', () => {
    const name = proposeStepName({ source: '', heading: 'class', steps: [] });
    expect(checkStepName(name, [])).toBeNull();
  });

  it('collects identifiers outside string literals', () => {
    const names = identifiersIn('df = pd.read_csv("data file.csv")\nprint(df)');
    expect([...names].sort()).toEqual(['df', 'pd', 'print', 'read_csv']);
  });
});
