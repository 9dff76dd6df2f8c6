/**
 * The dialog that asks for a new step's name: pre-filled with a proposal, checked on
 * every keystroke (`checkStepName`); an invalid or duplicate name shows why under the
 * input and disables the accept button (the Dialog also ignores Enter then: it reads the
 * input's validity, set here with setCustomValidity).
 */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { checkStepName } from '../core/stepline';

class StepNameBody extends Widget implements Dialog.IBodyWidget<string> {
  private readonly input: HTMLInputElement;
  private readonly error: HTMLElement;

  constructor(
    proposed: string,
    private readonly existing: string[],
    note: string | null
  ) {
    super();
    this.addClass('jp-mlops-StepDialog');
    const label = document.createElement('label');
    label.textContent = 'Step name (a Python identifier, unique in the notebook)';
    this.input = document.createElement('input');
    this.input.className = 'jp-mod-styled jp-mlops-StepNameInput';
    this.input.dataset.testid = 'mlops-step-name-input';
    this.input.value = proposed;
    this.input.spellcheck = false;
    this.input.setAttribute('aria-describedby', 'jp-mlops-step-name-error');
    label.appendChild(this.input);
    this.error = document.createElement('div');
    this.error.id = 'jp-mlops-step-name-error';
    this.error.className = 'jp-mlops-StepNameError';
    this.error.dataset.testid = 'mlops-step-name-error';
    this.error.setAttribute('aria-live', 'polite');
    this.node.append(label, this.error);
    if (note) {
      const p = document.createElement('p');
      p.className = 'jp-mlops-StepDialogNote';
      p.textContent = note;
      this.node.appendChild(p);
    }
    this.input.addEventListener('input', () => this.validate());
  }

  private validate(): void {
    const problem = checkStepName(this.input.value, this.existing);
    this.input.setCustomValidity(problem ?? '');
    this.input.classList.toggle('jp-mod-error', problem !== null);
    this.input.setAttribute('aria-invalid', String(problem !== null));
    this.error.textContent = problem ?? '';
    // The Dialog checks validity on 'input' (a capturing listener on the document, so
    // before this one ran): let it check again now that the input says why.
    this.node.dispatchEvent(new Event('input', { bubbles: true }));
  }

  protected onAfterAttach(): void {
    this.validate();
    this.input.select();
  }

  getValue(): string {
    return this.input.value.trim();
  }
}

/** Ask for a step name; null when the user cancels. */
export async function askStepName(
  proposed: string,
  existing: string[],
  note: string | null = null
): Promise<string | null> {
  const result = await showDialog({
    title: 'Mark cell as pipeline step',
    body: new StepNameBody(proposed, existing, note),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Mark as step' })],
    focusNodeSelector: 'input'
  });
  if (!result.button.accept || result.value === null) {
    return null;
  }
  // The accept button is disabled while the name is invalid; check again all the same.
  return checkStepName(result.value, existing) === null ? result.value : null;
}
