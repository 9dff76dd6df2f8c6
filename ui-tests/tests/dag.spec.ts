/**
 * The DAG of the panel: state icons and edge labels, the last good graph kept (broken step
 * marked) while extraction fails, the main-area view following the panel, and the steps
 * list beside the graph in a wide panel.
 */
import { expect, test } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';

import {
  CLASSIFICATION_STEPS,
  contrastRatio,
  openExample,
  openPanel,
  stepRows
} from './helpers';

/** The `train` cell of notebooks/classification.ipynb (0-based). */
const TRAIN_CELL = 15;

function dagNode(dag: Locator, step: string): Locator {
  return dag.locator(`g.jp-mlops-DagNode[data-step="${step}"]`);
}

test.describe('the DAG', () => {
  test('stays during an extraction error, the broken step marked', async ({
    page,
    tmpPath
  }) => {
    await openExample(page, tmpPath);
    const panel = await openPanel(page);
    const dag = panel.getByTestId('mlops-dag');
    await expect(dag.locator('g.jp-mlops-DagNode')).toHaveCount(
      CLASSIFICATION_STEPS.length
    );
    await expect(
      dag.locator('g.jp-mlops-DagLabel[data-from="split"][data-to="train"]')
    ).toHaveText('X_train, y_train');
    await expect(
      dag.locator('g.jp-mlops-DagLabel[data-from="train"][data-to="evaluate"]')
    ).toHaveText('model');
    for (const theme of ['light', 'dark']) {
      if (theme === 'dark') {
        await page.theme.setDarkTheme();
      }
      for (const [what, text] of [
        ['edge label', dag.locator('g.jp-mlops-DagLabel text').first()],
        ['box name', dag.locator('text.jp-mlops-DagName').first()]
      ] as [string, Locator][]) {
        expect
          .soft(await contrastRatio(text), `${what} contrast, ${theme} theme`)
          .toBeGreaterThanOrEqual(4.5);
      }
    }

    await page.notebook.setCell(
      TRAIN_CELL,
      'code',
      '%%mlstep train --model model\nmodel = make_model(n_estimators, max_depth)\nmodel.fit(X_trian, y_train)'
    );
    await expect(panel.getByTestId('mlops-notebook')).toHaveAttribute(
      'data-scan',
      'errors'
    );
    // The last good graph stays, edges and all; the broken step is red with an icon.
    await expect(dag.locator('g.jp-mlops-DagNode')).toHaveCount(
      CLASSIFICATION_STEPS.length
    );
    await expect(dag).toHaveAttribute('data-stale', 'true');
    await expect(panel.getByTestId('mlops-dag-note')).toContainText(
      'cannot be extracted'
    );
    // Run is disabled and says why.
    await expect(panel.getByTestId('mlops-run')).toBeDisabled();
    await expect(panel.getByTestId('mlops-run-blocked')).toHaveText(
      'Run disabled: the notebook cannot be extracted; fix the errors shown on its steps and cells'
    );
    await expect(
      dag.locator(
        'path.jp-mlops-DagEdge[data-from="features"][data-to="split"]'
      )
    ).toHaveCount(1);
    const train = dagNode(dag, 'train');
    await expect(train).toHaveAttribute('data-state', 'error');
    await expect(train.getByTestId('mlops-dag-icon')).toHaveText('!');
    await expect(train).toHaveAttribute('aria-label', /train, error/);
    await expect(dagNode(dag, 'split')).toHaveAttribute('data-state', 'none');
    // The rows keep their inputs; the list and the graph show the error in one colour.
    const row = panel.locator('[data-testid="mlops-step"][data-step="train"]');
    await expect(row).toHaveAttribute('data-state', 'error');
    await expect(row.getByTestId('mlops-step-inputs')).toContainText(
      'X_train ← split'
    );
    const listColour = await row
      .getByTestId('mlops-step-status')
      .evaluate(el => getComputedStyle(el).color);
    const boxColour = await train
      .locator('rect')
      .evaluate(el => getComputedStyle(el).stroke);
    expect(boxColour).toBe(listColour);

    // Fixed: the graph is current again.
    await page.notebook.setCell(
      TRAIN_CELL,
      'code',
      '%%mlstep train --model model\nmodel = make_model(n_estimators, max_depth)\nmodel.fit(X_train, y_train)'
    );
    await expect(dag).toHaveAttribute('data-stale', 'false');
    await expect(train).toHaveAttribute('data-state', 'none');
    await expect(panel.getByTestId('mlops-run-blocked')).toHaveCount(0);
  });

  test('opens in the main area and follows the panel', async ({
    page,
    tmpPath
  }) => {
    await openExample(page, tmpPath);
    const panel = await openPanel(page);
    await expect(stepRows(panel)).toHaveCount(CLASSIFICATION_STEPS.length);
    await panel.getByTestId('mlops-dag-open').click();
    const tab = page.locator('#jupyter-mlops-dag');
    await expect(tab).toBeVisible();
    const dag = tab.getByTestId('mlops-dag');
    await expect(dag.locator('g.jp-mlops-DagNode')).toHaveCount(
      CLASSIFICATION_STEPS.length
    );

    // Live: a new step in the notebook appears in the main-area graph.
    await page.notebook.activate('classification.ipynb');
    await page.notebook.addCell('code', '%%mlstep report\nsummary = len(df)');
    await expect(dagNode(dag, 'report')).toHaveCount(1);
    await expect(
      dag.locator(
        'path.jp-mlops-DagEdge[data-from="features"][data-to="report"]'
      )
    ).toHaveCount(1);

    // A box goes to its cell in the notebook.
    await dagNode(dag, 'split').click();
    await expect(
      page.locator('.jp-Notebook .jp-Cell.jp-mod-active')
    ).toContainText('%%mlstep split');

    // Closable, and opened again on demand.
    await page.activity.closePanel('Pipeline DAG');
    await expect(tab).toHaveCount(0);
    await panel.getByTestId('mlops-dag-open').click();
    await expect(page.locator('#jupyter-mlops-dag')).toBeVisible();
  });

  test('sits beside the steps list in a wide panel', async ({
    page,
    tmpPath
  }) => {
    await openExample(page, tmpPath);
    const panel = await openPanel(page);
    await expect(stepRows(panel)).toHaveCount(CLASSIFICATION_STEPS.length);
    const steps = panel.getByTestId('mlops-steps');
    const dag = panel.getByTestId('mlops-dag-box');

    // narrow: the graph first (above the fold), the steps list under it
    await page.sidebar.setWidth(360, 'right');
    let [list, graph] = [
      (await steps.boundingBox())!,
      (await dag.boundingBox())!
    ];
    expect(list.y).toBeGreaterThanOrEqual(graph.y + graph.height - 1);

    // wide: side by side, the graph on the left
    await page.setViewportSize({ width: 1600, height: 900 });
    await page.sidebar.setWidth(820, 'right');
    await expect
      .poll(async () => (await steps.boundingBox())!.y)
      .toBeLessThan(graph.y + graph.height);
    [list, graph] = [(await steps.boundingBox())!, (await dag.boundingBox())!];
    expect(list.x).toBeGreaterThanOrEqual(graph.x + graph.width);
  });
});
