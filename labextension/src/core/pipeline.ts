/**
 * Turn the server's replies into what the panel shows: step rows, the DAG input, errors
 * per step and per cell. Replies are checked, so a server of another version fails with
 * a clear message instead of a blank panel. Pure functions.
 */

import { IDagInput } from './dag';
import { isRecord, isStringArray, ProtocolError } from './replies';
import { stepNameOf } from './stepline';
import { IExtractionError, IPipelineJSON, IStepJSON, PipelineReply } from './types';

function checkStep(value: unknown, index: number): IStepJSON {
  if (
    !isRecord(value) ||
    typeof value.name !== 'string' ||
    typeof value.cell !== 'number' ||
    !isRecord(value.inputs) ||
    !Object.values(value.inputs).every(v => typeof v === 'string') ||
    !isStringArray(value.outputs) ||
    !isStringArray(value.params)
  ) {
    throw new ProtocolError(`steps[${index}] is not {name, cell, inputs, outputs, params}`);
  }
  return value as unknown as IStepJSON;
}

function checkError(value: unknown, index: number): IExtractionError {
  if (!isRecord(value) || typeof value.message !== 'string') {
    throw new ProtocolError(`errors[${index}] has no message`);
  }
  return {
    message: value.message,
    name: typeof value.name === 'string' ? value.name : null,
    cell: typeof value.cell === 'number' ? value.cell : null,
    step: typeof value.step === 'string' ? value.step : null
  };
}

/** The entries of `value` whose value is a string. */
function textValues(value: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string')
  );
}

/** Check a `pipeline` reply: the `show --json` shape or `{errors: [...]}`. */
export function parsePipelineReply(value: unknown): PipelineReply {
  if (isRecord(value) && Array.isArray(value.errors)) {
    return { errors: value.errors.map(checkError) };
  }
  if (
    !isRecord(value) ||
    typeof value.name !== 'string' ||
    !isRecord(value.params) ||
    !Array.isArray(value.steps)
  ) {
    throw new ProtocolError('expected {name, params, steps} or {errors}');
  }
  return {
    name: value.name,
    params: value.params,
    ...(isRecord(value.param_types) ? { param_types: textValues(value.param_types) } : {}),
    steps: value.steps.map(checkStep)
  };
}

export function isErrorReply(reply: PipelineReply): reply is { errors: IExtractionError[] } {
  return 'errors' in reply;
}

/** An input of a step and the step that produces it. */
export interface IInputRow {
  variable: string;
  producer: string;
}

/** What the steps list shows for one step. */
export interface IStepRow {
  name: string;
  /** 1-based cell number */
  cell: number;
  inputs: IInputRow[];
  outputs: string[];
  params: string[];
  errors: string[];
}

/** The steps of a scanned pipeline, in notebook order, with any errors attached. */
export function stepRows(pipeline: IPipelineJSON): IStepRow[] {
  return pipeline.steps.map(step => ({
    name: step.name,
    cell: step.cell,
    inputs: Object.entries(step.inputs)
      .map(([variable, producer]) => ({ variable, producer }))
      .sort((a, b) => (a.variable < b.variable ? -1 : a.variable > b.variable ? 1 : 0)),
    outputs: [...step.outputs],
    params: [...step.params],
    errors: []
  }));
}

/** The `%%mlstep` cells of the live notebook (what the panel shows while extraction fails). */
export function stepsInSources(sources: string[]): { name: string; cell: number }[] {
  const steps: { name: string; cell: number }[] = [];
  sources.forEach((source, index) => {
    const name = stepNameOf(source);
    if (name !== null) {
      steps.push({ name, cell: index + 1 });
    }
  });
  return steps;
}

/**
 * Rows for a notebook whose extraction failed: its `%%mlstep` cells (read locally) with
 * the errors of each attached by step name or cell number. A step the last good scan
 * (`lastGood`) knew keeps its inputs, outputs and parameters from it.
 */
export function rowsWithErrors(
  sources: string[],
  errors: IExtractionError[],
  lastGood: IPipelineJSON | null = null
): IStepRow[] {
  const known = new Map(lastGood ? stepRows(lastGood).map(row => [row.name, row]) : []);
  return stepsInSources(sources).map(({ name, cell }) => ({
    name,
    cell,
    inputs: known.get(name)?.inputs ?? [],
    outputs: known.get(name)?.outputs ?? [],
    params: known.get(name)?.params ?? [],
    errors: errors
      .filter(e => e.step === name || (e.step === null && e.cell === cell))
      .map(e => e.message)
  }));
}

/** The errors that concern no step row (e.g. a bad parameters cell). */
export function unattachedErrors(rows: IStepRow[], errors: IExtractionError[]): IExtractionError[] {
  const names = new Set(rows.map(r => r.name));
  const cells = new Set(rows.map(r => r.cell));
  return errors.filter(
    e =>
      !(e.step !== null && names.has(e.step)) &&
      !(e.step === null && e.cell !== null && cells.has(e.cell))
  );
}

/** Error messages per 1-based cell number (to show them on the cells). */
export function errorsByCell(errors: IExtractionError[]): Map<number, string[]> {
  const byCell = new Map<number, string[]>();
  for (const error of errors) {
    if (error.cell !== null) {
      byCell.set(error.cell, [...(byCell.get(error.cell) ?? []), error.message]);
    }
  }
  return byCell;
}

/** The steps that cannot be extracted (marked in the DAG). */
export function brokenSteps(rows: IStepRow[]): ReadonlySet<string> {
  return new Set(rows.filter(row => row.errors.length).map(row => row.name));
}

/** The DAG drawn from the steps' inputs; each edge carries the variables it brings. */
export function dagInput(rows: IStepRow[]): IDagInput[] {
  return rows.map(row => {
    const variables: Record<string, string[]> = {};
    for (const { variable, producer } of row.inputs) {
      variables[producer] = [...(variables[producer] ?? []), variable];
    }
    return { name: row.name, upstream: row.inputs.map(i => i.producer), variables };
  });
}

/**
 * The text of the nearest markdown heading in the markdown cells right above cell `index`
 * (0-based), or null (a code cell in between ends the search).
 */
export function headingAbove(
  cells: { type: string; source: string }[],
  index: number
): string | null {
  for (let i = index - 1; i >= 0 && cells[i].type !== 'code'; i--) {
    if (cells[i].type !== 'markdown') {
      continue;
    }
    const headings = [...cells[i].source.matchAll(/^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$/gm)];
    if (headings.length) {
      return headings[headings.length - 1][1];
    }
  }
  return null;
}
