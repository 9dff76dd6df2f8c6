/**
 * The whole story in the browser: open the example notebook, mark a new cell as a step
 * from the cell toolbar, extract, run headless from the panel until every step is done,
 * and find the registered model version in the Models section. Screenshots of the panel
 * (light and dark theme) are taken at the end.
 */
import { expect, test } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';

import {
  CLASSIFICATION_STEPS,
  contrastRatio,
  openExample,
  openPanel,
  screenshotPath,
  stepRows,
  TOGGLE_STEP
} from './helpers';

const NEW_STEP = 'class_balance';
const ALL_STEPS = [...CLASSIFICATION_STEPS, NEW_STEP];

// The title names the test's server folder, which the screenshots show.
test('mark, extract, run', async ({ page, tmpPath }, testInfo) => {
  test.setTimeout(300 * 1000);
  await openExample(page, tmpPath);
  const panel = await openPanel(page);
  await page.sidebar.setWidth(440, 'right');
  await expect(stepRows(panel)).toHaveCount(CLASSIFICATION_STEPS.length);

  // A new cell at the end, marked as a step from its cell toolbar.
  await page.notebook.addCell('code', 'positive_share = y_test.mean()');
  const last = (await page.notebook.getCellCount()) - 1;
  const cell = page.locator('.jp-Notebook .jp-Cell').nth(last);
  await cell.click();
  await cell
    .locator(`.jp-cell-toolbar [data-command="${TOGGLE_STEP}"]`)
    .click();

  const dialog = page.locator('.jp-Dialog');
  const name = dialog.getByTestId('mlops-step-name-input');
  const problem = dialog.getByTestId('mlops-step-name-error');
  const accept = dialog.locator('.jp-mod-accept');
  await expect(name).toBeVisible();
  await expect(name).not.toHaveValue('');
  // Invalid and duplicate names are refused inline.
  await name.fill('2nd step');
  await expect(problem).not.toBeEmpty();
  await expect(accept).toBeDisabled();
  await name.fill('train');
  await expect(problem).not.toBeEmpty();
  await expect(accept).toBeDisabled();
  await name.fill(NEW_STEP);
  await expect(problem).toBeEmpty();
  await accept.click();
  await expect(dialog).toHaveCount(0);

  expect((await page.notebook.getCellTextInput(last)).split('\n')[0]).toBe(
    `%%mlstep ${NEW_STEP}`
  );
  await expect(stepRows(panel)).toHaveCount(ALL_STEPS.length);
  const added = panel.locator(
    `[data-testid="mlops-step"][data-step="${NEW_STEP}"]`
  );
  await expect(added.getByTestId('mlops-step-inputs')).toContainText(
    'y_test ← split'
  );
  await expect(
    panel
      .getByTestId('mlops-dag')
      .locator(`g.jp-mlops-DagNode[data-step="${NEW_STEP}"]`)
  ).toHaveCount(1);

  // Extract works on the saved notebook.
  expect(await page.notebook.save()).toBe(true);
  await panel.getByTestId('mlops-extract').click();
  const extracted = panel.getByTestId('mlops-extract-message');
  await expect(extracted).toBeVisible();
  await expect(extracted).not.toHaveAttribute('data-failed', 'true');
  await expect(extracted).toContainText('pipelines/classification');
  expect(
    await page.contents.fileExists(
      `${tmpPath}/pipelines/classification/pipeline.yaml`
    )
  ).toBe(true);

  // Run: every step goes to done, the run registers a model version.
  await panel.getByTestId('mlops-run').click();
  const status = panel.getByTestId('mlops-run-status');
  await expect(status).toHaveAttribute(
    'data-phase',
    /starting|running|succeeded/
  );
  await expect(status).toHaveAttribute('data-phase', 'succeeded', {
    timeout: 240 * 1000
  });
  for (const step of ALL_STEPS) {
    const row = panel.locator(
      `[data-testid="mlops-step"][data-step="${step}"]`
    );
    await expect(row, `step ${step}`).toHaveAttribute('data-state', 'ran');
    await expect(row.getByTestId('mlops-step-status')).toHaveText('done');
  }
  await expect(panel.getByTestId('mlops-run-link')).not.toBeEmpty();
  const registered = panel.getByTestId('mlops-run-model-version');
  await expect(registered).toContainText(/model version \d+/);
  const version = (await registered.textContent())!.match(
    /model version (\d+)/
  )![1];

  // The Models section lists that version with its alias and metrics.
  const models = panel.getByTestId('mlops-models');
  const row = models.locator(
    `[data-testid="mlops-model-version"][data-version="${version}"]`
  );
  await expect(row).toBeVisible({ timeout: 60 * 1000 });
  await expect(
    row.locator('[data-testid="mlops-model-alias"][data-alias="challenger"]')
  ).toHaveCount(1);
  await expect(row.getByTestId('mlops-metrics')).toContainText('accuracy');
  // Recent runs (from MLflow) are folded away until asked for.
  const history = panel.getByTestId('mlops-history');
  await history.locator('summary').click();
  await expect(history.getByTestId('mlops-history-run').first()).toBeVisible();
  await expect(
    history.getByTestId('mlops-history-run').first()
  ).toHaveAttribute('data-status', 'succeeded');

  // Screenshots for the README: the notebook with the panel, light and dark, tall enough
  // to show the steps, the DAG, the run and the Models section at once. In each theme the
  // panel's text stays readable (WCAG AA contrast, 4.5:1).
  await history.locator('summary').click();
  await page.setViewportSize({ width: 1440, height: 1280 });
  await page.sidebar.setWidth(470, 'right');
  const newStepName = panel
    .locator(`[data-testid="mlops-step"][data-step="${NEW_STEP}"]`)
    .getByTestId('mlops-step-name');
  await newStepName.click();
  await page.screenshot({
    path: screenshotPath('panel-light.png', testInfo.outputDir)
  });
  await expectReadable(panel, 'light');
  await page.theme.setDarkTheme();
  await expect(page.locator('body')).toHaveAttribute(
    'data-jp-theme-light',
    'false'
  );
  await newStepName.click(); // the theme change scrolled the notebook: show the same place
  await page.screenshot({
    path: screenshotPath('panel-dark.png', testInfo.outputDir)
  });
  await expectReadable(panel, 'dark');
});

/** The panel's key texts have a contrast of at least 4.5:1 against their background (all
 * failures are listed, the test goes on). */
async function expectReadable(panel: Locator, theme: string): Promise<void> {
  const texts: Record<string, Locator> = {
    'step name': panel.getByTestId('mlops-step-name').first(),
    'step status': panel.getByTestId('mlops-step-status').first(),
    'step inputs': panel.getByTestId('mlops-step-inputs').first(),
    'run status': panel.getByTestId('mlops-run-status'),
    'Run button': panel.getByTestId('mlops-run'),
    'model alias': panel.getByTestId('mlops-model-alias').first(),
    'model metrics': panel.getByTestId('mlops-metrics').first()
  };
  for (const [what, locator] of Object.entries(texts)) {
    const ratio = await contrastRatio(locator);
    expect
      .soft(ratio, `${what} contrast in the ${theme} theme`)
      .toBeGreaterThanOrEqual(4.5);
  }
}
