/**
 * The side panel follows the active notebook: its states, its steps and DAG, the way to a
 * step's cell, and extraction errors on the step and the cell.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  CLASSIFICATION_STEPS,
  contrastRatio,
  openExample,
  openPanel,
  stepRows
} from './helpers';

test.describe('the MLOps panel', () => {
  test('says so when no notebook is open', async ({ page }) => {
    const panel = await openPanel(page);
    await expect(panel.getByTestId('mlops-empty')).toHaveAttribute(
      'data-reason',
      'no-notebook'
    );
    await expect(panel.getByTestId('mlops-server-status')).toHaveCount(0);
  });

  test('lists the steps of an example notebook and draws their DAG', async ({
    page,
    tmpPath
  }) => {
    await openExample(page, tmpPath);
    const panel = await openPanel(page);
    await expect(panel.getByTestId('mlops-notebook')).toHaveAttribute(
      'data-scan',
      'ok'
    );
    await expect(stepRows(panel)).toHaveCount(CLASSIFICATION_STEPS.length);
    expect(
      await stepRows(panel).evaluateAll(rows => rows.map(r => r.dataset.step))
    ).toEqual(CLASSIFICATION_STEPS);

    const split = panel.locator(
      '[data-testid="mlops-step"][data-step="split"]'
    );
    await expect(split.getByTestId('mlops-step-inputs')).toContainText(
      'df ← features'
    );
    await expect(split.getByTestId('mlops-step-outputs')).toContainText(
      'X_train'
    );
    await expect(split.getByTestId('mlops-step-params')).toContainText(
      'test_size'
    );

    const dag = panel.getByTestId('mlops-dag');
    await expect(dag.locator('g.jp-mlops-DagNode')).toHaveCount(
      CLASSIFICATION_STEPS.length
    );
    await expect(
      dag.locator(
        'path.jp-mlops-DagEdge[data-from="features"][data-to="split"]'
      )
    ).toHaveCount(1);
    await expect(
      dag.locator(
        'path.jp-mlops-DagEdge[data-from="train"][data-to="evaluate"]'
      )
    ).toHaveCount(1);

    // The step name goes to its cell.
    await panel
      .locator('[data-testid="mlops-step"][data-step="train"]')
      .getByTestId('mlops-step-name')
      .click();
    const active = page.locator('.jp-Notebook .jp-Cell.jp-mod-active');
    await expect(active).toContainText('%%mlstep train');

    // So does a DAG box, from the keyboard.
    const node = dag.locator('g.jp-mlops-DagNode[data-step="features"]');
    await expect(node).toHaveAttribute('role', 'button');
    await node.focus();
    await page.keyboard.press('Enter');
    await expect(active).toContainText('%%mlstep features');
  });

  test('shows an extraction error on its step and on its cell', async ({
    page,
    tmpPath
  }) => {
    await openExample(page, tmpPath);
    const panel = await openPanel(page);
    await expect(stepRows(panel)).toHaveCount(CLASSIFICATION_STEPS.length);

    await page.notebook.addCell(
      'code',
      '%%mlstep broken\nscore = undefined_thing + 1'
    );
    const broken = panel.locator(
      '[data-testid="mlops-step"][data-step="broken"]'
    );
    await expect(broken).toHaveAttribute('data-state', 'error');
    await expect(broken.getByTestId('mlops-step-error')).toContainText(
      'undefined_thing'
    );
    await expect(panel.getByTestId('mlops-notebook')).toHaveAttribute(
      'data-scan',
      'errors'
    );
    const cell = page.locator('.jp-Notebook .jp-Cell').last();
    await expect(cell.getByTestId('mlops-cell-error')).toContainText(
      'undefined_thing'
    );

    // Fixing the cell clears the error everywhere (the panel parses the live notebook).
    const count = await page.notebook.getCellCount();
    await page.notebook.setCell(
      count - 1,
      'code',
      '%%mlstep fixed\nscore = len(df)'
    );
    await expect(panel.getByTestId('mlops-notebook')).toHaveAttribute(
      'data-scan',
      'ok'
    );
    await expect(stepRows(panel)).toHaveCount(CLASSIFICATION_STEPS.length + 1);
    await expect(cell.getByTestId('mlops-cell-error')).toHaveCount(0);
  });

  test('refuses a bad integer parameter with Run disabled and the reason shown', async ({
    page,
    tmpPath
  }) => {
    await openExample(page, tmpPath);
    let panel = await openPanel(page);
    await expect(panel.getByTestId('mlops-notebook')).toHaveAttribute(
      'data-scan',
      'ok'
    );
    await panel.getByTestId('mlops-params').locator('summary').click();
    const field = panel.locator(
      '[data-testid="mlops-param"][data-param="n_estimators"]'
    );
    const run = panel.getByTestId('mlops-run');
    const reason = "parameter 'n_estimators' expects an integer, got 3.5";
    await expect(field).toHaveAttribute('data-type', 'int');
    await expect(run).toBeEnabled();

    await field.fill('3.5');
    await expect(field).toHaveAttribute('aria-invalid', 'true');
    const note = panel.locator(
      `#${await field.getAttribute('aria-describedby')}`
    );
    await expect(note).toHaveText(reason);
    await expect(run).toBeDisabled();
    await expect(panel.getByTestId('mlops-run-blocked')).toBeVisible();
    await expect(panel.getByTestId('mlops-run-blocked')).toHaveText(
      `Run disabled: ${reason}`
    );
    for (const text of [note, panel.getByTestId('mlops-run-blocked')]) {
      expect(await contrastRatio(text)).toBeGreaterThanOrEqual(4.5);
    }

    // JupyterLab writes its state database into the workspace (debounced): wait for that
    const saved = page.waitForResponse(
      response =>
        response.url().includes('/api/workspaces') &&
        response.request().method() === 'PUT' &&
        (response.request().postData() ?? '').includes('"n_estimators":"1500"')
    );
    await field.fill('1500');
    await expect(field).toHaveAttribute('aria-invalid', 'false');
    await expect(run).toBeEnabled();
    await expect(panel.getByTestId('mlops-run-blocked')).toHaveCount(0);
    await expect(panel.getByTestId('mlops-params-changed')).toHaveText(
      ' · 1 changed'
    );

    // The edited value is kept for the notebook across a page reload (IStateDB).
    await saved;
    await page.reload({ waitForIsReady: false }); // the notebook comes back, no Launcher
    await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
    panel = await openPanel(page);
    await expect(
      panel.locator('[data-testid="mlops-param"][data-param="n_estimators"]')
    ).toHaveValue('1500');
  });

  test('offers to mark a cell in a notebook without steps', async ({
    page
  }) => {
    await page.notebook.createNew('empty.ipynb');
    const panel = await openPanel(page);
    await expect(panel.getByTestId('mlops-empty')).toHaveAttribute(
      'data-reason',
      'no-steps'
    );
    await expect(panel.getByTestId('mlops-mark-cell')).toBeVisible();
  });
});
