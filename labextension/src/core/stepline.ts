/**
 * The `%%mlstep NAME` line: read it from a cell's source, add or remove it, check and
 * propose step names. Pure functions (no JupyterLab, no DOM); the rules mirror
 * `jupyter_mlops/stepline.py` so the panel refuses what extraction would refuse.
 */

export const MAGIC = '%%mlstep';

/** Names the Python side refuses for a step (the shared setup module is `common.py`). */
export const RESERVED_STEP_NAMES: ReadonlySet<string> = new Set(['common']);

/** Python's hard keywords (`keyword.kwlist`); soft keywords such as `match` are allowed. */
export const PYTHON_KEYWORDS: ReadonlySet<string> = new Set([
  'False',
  'None',
  'True',
  'and',
  'as',
  'assert',
  'async',
  'await',
  'break',
  'class',
  'continue',
  'def',
  'del',
  'elif',
  'else',
  'except',
  'finally',
  'for',
  'from',
  'global',
  'if',
  'import',
  'in',
  'is',
  'lambda',
  'nonlocal',
  'not',
  'or',
  'pass',
  'raise',
  'return',
  'try',
  'while',
  'with',
  'yield'
]);

const IDENTIFIER = /^[\p{XID_Start}_][\p{XID_Continue}]*$/u;

/** Words left out of a name proposed from a heading ("Load the data" -> load_data). */
const STOP_WORDS = new Set(['a', 'an', 'the', 'of', 'and', 'to', 'for', 'on', 'in', 'with']);
const MAX_PROPOSED_WORDS = 3;

/** The first line of a cell, ignoring leading blank lines (as the Python side does). */
function splitFirstLine(source: string): [string, string] {
  const text = source.replace(/^\n+/, '');
  const newline = text.indexOf('\n');
  return newline < 0 ? [text, ''] : [text.slice(0, newline), text.slice(newline + 1)];
}

/** True when the cell's first line is a `%%mlstep` magic. */
export function isStepSource(source: string): boolean {
  const first = splitFirstLine(source)[0].trim();
  return first === MAGIC || first.startsWith(MAGIC + ' ');
}

/** The step name a cell declares, or null when it is not a step (or has no name yet). */
export function stepNameOf(source: string): string | null {
  if (!isStepSource(source)) {
    return null;
  }
  const args = splitFirstLine(source)[0].trim().slice(MAGIC.length).trim();
  const name = args.split(/\s+/)[0];
  return name && !name.startsWith('-') ? name : null;
}

/** The cell source with a `%%mlstep NAME` first line added (the body is kept as is). */
export function markSource(source: string, name: string): string {
  if (isStepSource(source)) {
    throw new Error('the cell is already a step');
  }
  return `${MAGIC} ${name}\n${source}`;
}

/** The cell source without its `%%mlstep` line (unchanged when it is not a step). */
export function unmarkSource(source: string): string {
  if (!isStepSource(source)) {
    return source;
  }
  return splitFirstLine(source)[1];
}

/** True for a Python identifier that is not a keyword. */
export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name) && !PYTHON_KEYWORDS.has(name);
}

/**
 * Why `name` cannot name a new step, or null when it can. `existing` are the names of the
 * notebook's other steps.
 */
export function checkStepName(name: string, existing: Iterable<string>): string | null {
  const trimmed = name.trim();
  if (!trimmed) {
    return 'a step needs a name';
  }
  if (PYTHON_KEYWORDS.has(trimmed)) {
    return `'${trimmed}' is a Python keyword`;
  }
  if (!IDENTIFIER.test(trimmed)) {
    return `'${trimmed}' is not a valid Python identifier (letters, digits and _, not starting with a digit)`;
  }
  if (RESERVED_STEP_NAMES.has(trimmed)) {
    return `'${trimmed}' is reserved (the shared setup module is called ${trimmed}.py)`;
  }
  for (const other of existing) {
    if (other === trimmed) {
      return `a step named '${trimmed}' already exists`;
    }
  }
  return null;
}

/**
 * `text` as a snake_case identifier of at most a few words, parenthesized asides and
 * stop words left out ('' when nothing is left).
 */
export function slugify(text: string, maxWords = MAX_PROPOSED_WORDS): string {
  const words = text
    .replace(/\([^)]*\)|\[[^\]]*\]/g, ' ')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  const kept = words.filter(w => !STOP_WORDS.has(w));
  let slug = (kept.length ? kept : words).slice(0, maxWords).join('_');
  if (/^\p{N}/u.test(slug)) {
    slug = `step_${slug}`;
  }
  return isIdentifier(slug) ? slug : '';
}

/** What a name proposal looks at: the cell, the heading above it, names to stay clear of. */
export interface INameContext {
  /** The cell's source. */
  source: string;
  /** The text of the nearest markdown heading above the cell, if any. */
  heading?: string | null;
  /** Names of the notebook's steps. */
  steps: Iterable<string>;
  /** Other names to avoid, e.g. the identifiers the notebook's code uses. */
  avoid?: Iterable<string>;
  /** 1-based cell number, for the last-resort `step_N`. */
  cellNumber?: number;
}

/** The first comment line of the cell ("# Train the model" -> "Train the model"). */
function leadingComment(source: string): string | null {
  for (const line of source.split('\n')) {
    const stripped = line.trim();
    if (!stripped) {
      continue;
    }
    return stripped.startsWith('#') ? stripped.replace(/^#+/, '').trim() : null;
  }
  return null;
}

/** The first name the cell assigns at top level (`df = ...` -> "df"). */
function firstAssignedName(source: string): string | null {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?:,[^=\n]*)?=(?!=)/m.exec(source);
  return match ? match[1] : null;
}

/**
 * A valid, unused name for a new step: from the cell's leading comment, else the heading
 * above it, else the first variable it assigns (`make_df`), else `step_N`. A name already
 * taken (by a step or by a name the code uses) gets a numeric suffix.
 */
export function proposeStepName(context: INameContext): string {
  const steps = new Set(context.steps);
  const taken = new Set([...steps, ...(context.avoid ?? [])]);
  const assigned = firstAssignedName(context.source);
  const candidates = [
    slugify(leadingComment(context.source) ?? ''),
    slugify(context.heading ?? ''),
    assigned ? slugify(`make ${assigned}`, 4) : '',
    `step_${context.cellNumber ?? steps.size + 1}`
  ];
  const base = candidates.find(c => c && checkStepName(c, []) === null) ?? 'step';
  let name = base;
  for (let n = 2; taken.has(name) || checkStepName(name, steps) !== null; n++) {
    name = `${base}_${n}`;
  }
  return name;
}

/** The identifiers a piece of code mentions (a cheap over-approximation of the names it uses). */
export function identifiersIn(code: string): Set<string> {
  const names = new Set<string>();
  const withoutStrings = code.replace(/(["'])(?:\\.|(?!\1).)*\1/g, ' ');
  for (const match of withoutStrings.matchAll(/[\p{XID_Start}_][\p{XID_Continue}]*/gu)) {
    names.add(match[0]);
  }
  return names;
}
