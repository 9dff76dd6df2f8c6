/**
 * The parameters form: one typed field per parameter (a checkbox for a bool), the refusal
 * under a field that does not parse, changed values marked in words and style, "Reset to
 * defaults". While a run goes on it shows that run's values, read-only.
 */

import * as React from 'react';

import { changedLabel, formatParamValue, IParamField } from '../core/paramForm';
import { IRunState, isRunActive } from '../core/run';

export interface IParamFormProps {
  fields: IParamField[];
  run: IRunState;
  onParam: (name: string, text: string) => void;
  onReset: () => void;
}

/** The fields as the running run has them (its values, nothing to correct). */
function runningFields(fields: IParamField[], values: Record<string, unknown> | null) {
  return fields.map(field => {
    if (!values || !(field.name in values)) {
      return field;
    }
    const text = formatParamValue(values[field.name], field.type);
    return {
      ...field,
      text,
      value: values[field.name],
      error: null,
      changed: text !== field.defaultText
    };
  });
}

function FieldInput(props: {
  field: IParamField;
  id: string;
  describedBy: string;
  readOnly: boolean;
  onParam: (name: string, text: string) => void;
}) {
  const { field, id } = props;
  const common = {
    id,
    'data-testid': 'mlops-param',
    'data-param': field.name,
    'data-type': field.type,
    'aria-invalid': field.error !== null,
    'aria-describedby': props.describedBy
  };
  if (field.type === 'bool' && field.error === null) {
    return (
      <input
        {...common}
        type="checkbox"
        className="jp-mlops-ParamCheck"
        checked={field.value === true}
        disabled={props.readOnly}
        onChange={event => props.onParam(field.name, event.target.checked ? 'True' : 'False')}
      />
    );
  }
  return (
    <input
      {...common}
      className={'jp-mlops-ParamInput' + (field.error ? ' jp-mod-error' : '')}
      value={field.text}
      spellCheck={false}
      readOnly={props.readOnly}
      inputMode={field.type === 'int' || field.type === 'float' ? 'decimal' : undefined}
      onChange={event => props.onParam(field.name, event.target.value)}
    />
  );
}

function Field(props: {
  field: IParamField;
  readOnly: boolean;
  onParam: (name: string, text: string) => void;
}) {
  const { field } = props;
  const id = `jp-mlops-param-${field.name}`;
  const noteId = `${id}-note`;
  return (
    <div
      className={'jp-mlops-ParamField' + (field.changed ? ' jp-mod-changed' : '')}
      data-testid="mlops-param-field"
      data-param={field.name}
      data-changed={field.changed}
    >
      <label htmlFor={id}>
        {field.name} <span className="jp-mlops-ParamType">{field.type}</span>
        {field.changed && (
          <span className="jp-mlops-ParamChanged" data-testid="mlops-param-changed">
            {' '}
            changed
          </span>
        )}
      </label>
      <FieldInput {...props} id={id} describedBy={noteId} />
      {field.error !== null ? (
        <div id={noteId} className="jp-mlops-ParamError" data-testid="mlops-param-error">
          {field.error}
        </div>
      ) : (
        <div id={noteId} className="jp-mlops-ParamNote">
          default: {field.defaultText}
        </div>
      )}
    </div>
  );
}

export function ParamFormView(props: IParamFormProps): JSX.Element | null {
  if (!props.fields.length) {
    return null;
  }
  const running = isRunActive(props.run);
  const fields = running ? runningFields(props.fields, props.run.params) : props.fields;
  const changed = changedLabel(fields);
  return (
    <details className="jp-mlops-Params" data-testid="mlops-params" data-running={running}>
      <summary>
        Parameters ({fields.length})
        {changed && (
          <span className="jp-mlops-ParamsChanged" data-testid="mlops-params-changed">
            {' · '}
            {changed}
          </span>
        )}
      </summary>
      {running && (
        <div className="jp-mlops-ParamNote" data-testid="mlops-params-running">
          values of the running run
        </div>
      )}
      <div className="jp-mlops-ParamsGrid">
        {fields.map(field => (
          <Field key={field.name} field={field} readOnly={running} onParam={props.onParam} />
        ))}
      </div>
      <button
        className="jp-mlops-LinkButton"
        data-testid="mlops-params-reset"
        disabled={running || !changed}
        onClick={props.onReset}
      >
        Reset to defaults
      </button>
    </details>
  );
}
