/**
 * The parameters form without the DOM: each parameter's type (from its default, as the
 * server reports it in `param_types`), the text typed into a field parsed and checked for
 * that type (refusals worded as the server's `resolve_params` words them), what is sent
 * with `POST run`, how many values differ from the defaults, and the edited texts kept per
 * notebook in a state database (JupyterLab's IStateDB: they survive a page reload).
 */

import { IPipelineJSON } from './types';

export type ParamType = 'int' | 'float' | 'bool' | 'str' | 'list' | 'any';

const TYPES: ReadonlySet<string> = new Set(['int', 'float', 'bool', 'str', 'list', 'any']);

/** What a value must be, as the refusal says it (pipeline/params.py `EXPECTED`). */
export const EXPECTED: Partial<Record<ParamType, string>> = {
  int: 'an integer',
  float: 'a number',
  bool: 'True or False',
  list: 'a list'
};

/** The type of a parameter: the server's word for it, else inferred from the default. */
export function paramType(defaultValue: unknown, reported?: unknown): ParamType {
  if (typeof reported === 'string' && TYPES.has(reported)) {
    return reported as ParamType;
  }
  if (typeof defaultValue === 'boolean') {
    return 'bool';
  }
  if (typeof defaultValue === 'number') {
    return Number.isInteger(defaultValue) ? 'int' : 'float';
  }
  if (typeof defaultValue === 'string') {
    return 'str';
  }
  return Array.isArray(defaultValue) ? 'list' : 'any';
}

/** A value as Python would write it in the parameters cell (`1.0` for a float). */
export function formatParamValue(value: unknown, type: ParamType = 'any'): string {
  if (value === null || value === undefined) {
    return 'None';
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number') {
    return type === 'float' && Number.isInteger(value) ? value.toFixed(1) : String(value);
  }
  return JSON.stringify(value);
}

export type ParsedField = { value: unknown; error: null } | { value: null; error: string };

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** "parameter 'n' expects an integer, got 3.5" (the server's wording). */
export function refusal(name: string, type: ParamType, text: string): string {
  const got = text.trim() === '' ? 'an empty field' : text.trim();
  return `parameter '${name}' expects ${EXPECTED[type] ?? 'a value'}, got ${got}`;
}

/**
 * A Python literal made JSON: single-quoted strings double-quoted, True/False/None as
 * true/false/null, tuples' parentheses as brackets. Returns null when it does not parse.
 */
export function parsePythonLiteral(text: string): { value: unknown } | null {
  let json = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"' || char === "'") {
      const end = closingQuote(text, i);
      if (end < 0) {
        return null;
      }
      json += JSON.stringify(text.slice(i + 1, end).replace(/\\(.)/g, '$1'));
      i = end;
    } else if (/[A-Za-z_]/.test(char)) {
      const word = /^[A-Za-z_]\w*/.exec(text.slice(i))![0];
      json +=
        ({ True: 'true', False: 'false', None: 'null' } as Record<string, string>)[word] ?? word;
      i += word.length - 1;
    } else {
      json += char === '(' ? '[' : char === ')' ? ']' : char;
    }
  }
  try {
    return { value: JSON.parse(json.replace(/,\s*([\]}])/g, '$1')) };
  } catch {
    return null;
  }
}

function closingQuote(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
    } else if (text[i] === text[start]) {
      return i;
    }
  }
  return -1;
}

/** The value typed into the field of parameter `name` of `type`, or why it is not one. */
export function parseField(name: string, text: string, type: ParamType): ParsedField {
  const trimmed = text.trim();
  const refused = { value: null, error: refusal(name, type, text) };
  switch (type) {
    case 'str':
      return { value: text, error: null };
    case 'int':
      return INTEGER.test(trimmed) && Number.isSafeInteger(Number(trimmed))
        ? { value: Number(trimmed), error: null }
        : refused;
    case 'float':
      return NUMBER.test(trimmed) && Number.isFinite(Number(trimmed))
        ? { value: Number(trimmed), error: null }
        : refused;
    case 'bool':
      return /^(true|false)$/i.test(trimmed)
        ? { value: trimmed.toLowerCase() === 'true', error: null }
        : refused;
    case 'list': {
      const parsed = parsePythonLiteral(trimmed);
      return parsed && Array.isArray(parsed.value) ? { value: parsed.value, error: null } : refused;
    }
    case 'any': {
      const parsed = parsePythonLiteral(trimmed);
      return { value: parsed ? parsed.value : text, error: null };
    }
  }
}

/** One field of the form. */
export interface IParamField {
  name: string;
  type: ParamType;
  /** The text shown: the one typed, else the default's. */
  text: string;
  defaultText: string;
  /** The parsed value (null while `error` is set). */
  value: unknown;
  error: string | null;
  /** The value differs from the default (an invalid text counts as changed). */
  changed: boolean;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The form's fields for the pipeline's parameters and the texts typed (`edits`). */
export function paramFields(
  pipeline: Pick<IPipelineJSON, 'params' | 'param_types'> | null,
  edits: Record<string, string>
): IParamField[] {
  const defaults = pipeline?.params ?? {};
  return Object.entries(defaults).map(([name, fallback]) => {
    const type = paramType(fallback, pipeline?.param_types?.[name]);
    const defaultText = formatParamValue(fallback, type);
    const text = edits[name] ?? defaultText;
    const parsed = parseField(name, text, type);
    const changed = parsed.error === null ? !sameValue(parsed.value, fallback) : true;
    return { name, type, text, defaultText, value: parsed.value, error: parsed.error, changed };
  });
}

/** "2 changed", or '' when every value is the default. */
export function changedLabel(fields: IParamField[]): string {
  const count = fields.filter(f => f.changed).length;
  return count ? `${count} changed` : '';
}

/** Why Run is disabled by the form (the first invalid field), or null. */
export function runBlocker(fields: IParamField[]): string | null {
  return fields.find(f => f.error !== null)?.error ?? null;
}

/** The `params` of `POST run`: the values that differ from the defaults, typed. */
export function runParams(fields: IParamField[]): Record<string, unknown> {
  return Object.fromEntries(fields.filter(f => f.changed).map(f => [f.name, f.value]));
}

/** The edits after the field `name` was set to `text` (a default's text is no edit). */
export function withEdit(
  edits: Record<string, string>,
  fields: IParamField[],
  name: string,
  text: string
): Record<string, string> {
  const { [name]: _previous, ...others } = edits;
  const field = fields.find(f => f.name === name);
  return field && text === field.defaultText ? others : { ...others, [name]: text };
}

/** What the store needs of JupyterLab's IStateDB. */
export interface IStateStore {
  fetch(id: string): Promise<unknown>;
  save(id: string, value: Record<string, string>): Promise<unknown>;
  remove(id: string): Promise<unknown>;
}

export const PARAMS_KEY = 'jupyter-mlops:params:';

function isTextRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every(v => typeof v === 'string')
  );
}

/**
 * The form's edited texts per notebook path: kept in memory (switching notebooks) and in
 * the state database when there is one (a page reload). A database that fails leaves the
 * memory copy: the form works on, the values are not kept past a reload.
 */
export class ParamStore {
  private readonly memory = new Map<string, Record<string, string>>();

  constructor(private readonly db: IStateStore | null = null) {}

  async load(path: string): Promise<Record<string, string>> {
    const kept = this.memory.get(path);
    if (kept || !this.db) {
      return kept ?? {};
    }
    try {
      const stored = await this.db.fetch(PARAMS_KEY + path);
      return isTextRecord(stored) ? { ...stored } : {};
    } catch {
      return {};
    }
  }

  async save(path: string, edits: Record<string, string>): Promise<void> {
    this.memory.set(path, edits);
    if (!this.db) {
      return;
    }
    try {
      await (Object.keys(edits).length
        ? this.db.save(PARAMS_KEY + path, edits)
        : this.db.remove(PARAMS_KEY + path));
    } catch {
      // kept in memory only
    }
  }
}
