/**
 * Runs and versions you can compare and act on: two runs of the classification example
 * with different parameters (started from the panel's form), compared side by side (the
 * differing parameter marked, metric deltas with better/worse words), the older one run
 * again with "Re-run with these parameters" (the form shows its values as changed, the
 * new run records them), and a version promoted to champion with the gate's outcome.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';

import {
  CLASSIFICATION_STEPS,
  openExample,
  openPanel,
  screenshotPath,
  stepRows
} from './helpers';

const RUN_TIMEOUT = 240 * 1000;
/** The notebook's name here, so its pipeline's and model's too. */
const NAME = 'compare_runs';

/** The parameters form's field of `name` (the form unfolded first). */
async function paramInput(panel: Locator, name: string): Promise<Locator> {
  const form = panel.getByTestId('mlops-params');
  if ((await form.getAttribute('open')) === null) {
    await form.locator('summary').click();
  }
  return form.locator(`[data-testid="mlops-param"][data-param="${name}"]`);
}

/** The Recent runs rows, the list unfolded. */
async function recentRuns(panel: Locator): Promise<Locator> {
  const history = panel.getByTestId('mlops-history');
  await expect(history).toBeVisible({ timeout: 60 * 1000 });
  if ((await history.locator('details').getAttribute('open')) === null) {
    await history.locator('details > summary').click();
  }
  return history.getByTestId('mlops-history-run');
}

/** Wait until Recent runs lists `count` runs, the newest one succeeded. */
async function newestSucceeded(
  panel: Locator,
  count: number
): Promise<Locator> {
  const history = panel.getByTestId('mlops-history');
  await expect(history.locator('details > summary')).toHaveText(
    `Recent runs (${count})`,
    { timeout: RUN_TIMEOUT }
  );
  const newest = history.getByTestId('mlops-history-run').first();
  await expect(newest).toHaveAttribute('data-status', 'succeeded', {
    timeout: RUN_TIMEOUT
  });
  return newest;
}

/** Start a run with the form as it is and wait until it is listed as succeeded. */
async function runAndRecord(panel: Locator, count: number): Promise<void> {
  await panel.getByTestId('mlops-run').click();
  await newestSucceeded(panel, count);
}

async function prepare(
  page: IJupyterLabPageFixture,
  tmpPath: string
): Promise<Locator> {
  // Its own name: its own pipeline and model, apart from the other tests' runs in the store.
  await openExample(page, tmpPath, 'classification.ipynb', `${NAME}.ipynb`);
  const panel = await openPanel(page);
  await page.sidebar.setWidth(520, 'right');
  await expect(stepRows(panel)).toHaveCount(CLASSIFICATION_STEPS.length);
  expect(await page.notebook.save()).toBe(true);
  await panel.getByTestId('mlops-extract').click();
  const extracted = panel.getByTestId('mlops-extract-message');
  await expect(extracted).toContainText(`pipelines/${NAME}`);
  await expect(extracted).not.toHaveAttribute('data-failed', 'true');
  await addGates(page, `${tmpPath}/pipelines/${NAME}/pipeline.yaml`);
  return panel;
}

/**
 * A model gate in the pipeline file: accuracy at least 0.95 (with the example's fixed
 * seed, 7 trees give 0.944: rejected; 40 trees give 0.958: validated).
 */
async function addGates(
  page: IJupyterLabPageFixture,
  file: string
): Promise<void> {
  const reply = await page.request.get(
    `/api/contents/${file}?type=file&format=text&content=1`
  );
  expect(reply.status(), await reply.text()).toBe(200);
  const text: string = (await reply.json()).content;
  const gates = 'gates:\n  metrics:\n    accuracy: {min: 0.95}\n';
  // uploadContent reports success on a created file only: replace, not overwrite
  expect(await page.contents.deleteFile(file)).toBe(true);
  expect(await page.contents.uploadContent(text + gates, 'text', file)).toBe(
    true
  );
}

test('compare two runs, re-run one, promote a version', async ({
  page,
  tmpPath
}, testInfo) => {
  test.setTimeout(600 * 1000);
  const panel = await prepare(page, tmpPath);

  // Two recorded runs that differ in n_estimators.
  await (await paramInput(panel, 'n_estimators')).fill('7');
  await runAndRecord(panel, 1);
  await (await paramInput(panel, 'n_estimators')).fill('40');
  await runAndRecord(panel, 2);

  const rows = await recentRuns(panel);
  await expect(rows).toHaveCount(2);
  const [newer, older] = [rows.nth(0), rows.nth(1)];
  await expect(
    older.locator('[data-testid="mlops-run-param"][data-param="n_estimators"]')
  ).toHaveAttribute('data-changed', 'true');
  await expect(
    older.locator('[data-testid="mlops-run-param"][data-param="n_estimators"]')
  ).toContainText('n_estimators=7 (changed)');
  await expect(
    older.locator('[data-testid="mlops-run-param"][data-param="max_depth"]')
  ).toHaveAttribute('data-changed', 'false');
  await expect(older.getByTestId('mlops-run-source')).toContainText(
    'from panel'
  );
  await expect(older.getByTestId('mlops-run-duration')).not.toBeEmpty();
  // Local dates, "2 Dec 21:15", the full time in the title.
  await expect(older.getByTestId('mlops-run-date')).toHaveText(
    /^\d{1,2} [A-Z][a-z]{2}( \d{4})? \d{2}:\d{2}$/
  );
  await expect(older.getByTestId('mlops-run-date')).toHaveAttribute(
    'title',
    /\d{2}:\d{2}:\d{2}/
  );
  await expect(newer.getByTestId('mlops-run-version')).toContainText(
    'registered v2'
  );

  // (1) Compare: both ticked from the keyboard.
  await older.getByTestId('mlops-run-select').focus();
  await page.keyboard.press('Space');
  await expect(panel.getByTestId('mlops-compare-hint')).toBeVisible();
  await newer.getByTestId('mlops-run-select').focus();
  await page.keyboard.press('Space');
  const compare = panel.getByTestId('mlops-compare');
  await expect(compare).toBeVisible();
  const param = compare.locator(
    '[data-testid="mlops-compare-param"][data-param="n_estimators"]'
  );
  await expect(param).toHaveAttribute('data-differs', 'true');
  await expect(param).toContainText('7');
  await expect(param).toContainText('40');
  await expect(param).toContainText('differs');
  await expect(
    compare.locator(
      '[data-testid="mlops-compare-param"][data-param="max_depth"]'
    )
  ).toHaveAttribute('data-differs', 'false');
  const accuracy = compare.locator(
    '[data-testid="mlops-compare-metric"][data-metric="accuracy"]'
  );
  await expect(accuracy).toHaveAttribute('data-verdict', /better|worse|same/);
  await expect(accuracy).toContainText(/better|worse|same/);
  await compare.scrollIntoViewIfNeeded();
  await page.screenshot({
    path: screenshotPath('panel-compare.png', testInfo.outputDir)
  });
  await compare.getByTestId('mlops-compare-close').click();
  await expect(compare).toHaveCount(0);

  // (2) Re-run the older run's parameters: the form shows them as changed, a new run
  // records them.
  await older.getByTestId('mlops-run-rerun').click();
  const field = panel.locator(
    '[data-testid="mlops-param-field"][data-param="n_estimators"]'
  );
  await expect(field).toHaveAttribute('data-changed', 'true');
  await expect(field.getByTestId('mlops-param')).toHaveValue('7');
  const rerun = await newestSucceeded(panel, 3);
  await expect(rerun.getByTestId('mlops-run-source')).toContainText(
    'from panel'
  );
  // Its steps all came from the cache (7 trees ran before): it says so.
  await expect(rerun.getByTestId('mlops-run-cached')).toContainText(
    'every step cached'
  );
  await expect(
    rerun.locator('[data-testid="mlops-run-param"][data-param="n_estimators"]')
  ).toContainText('n_estimators=7 (changed)');

  // (3) Promote: v1 (7 trees) was rejected by the gate, v2 validated (and challenger).
  const models = panel.getByTestId('mlops-models');
  const version = (n: string) =>
    models.locator(`[data-testid="mlops-model-version"][data-version="${n}"]`);
  const v1 = version('1');
  await expect(v1.getByTestId('mlops-model-gate')).toHaveAttribute(
    'data-gate',
    'rejected'
  );
  await expect(v1.getByTestId('mlops-model-label')).toHaveText(
    `${NAME} · step train`
  );
  // Each version with the parameters of the run that trained it.
  await expect(
    v1.locator('[data-testid="mlops-run-param"][data-param="n_estimators"]')
  ).toContainText('n_estimators=7 (changed)');
  await v1.getByTestId('mlops-model-promote').click();
  const confirm = v1.getByTestId('mlops-promote-confirm');
  await expect(confirm).toContainText(
    `Promote v1 of ${NAME} · step train to @champion?`
  );
  await expect(confirm.getByTestId('mlops-promote-accept')).toBeFocused();
  await page.keyboard.press('Enter');
  const outcome = v1.getByTestId('mlops-promote-outcome');
  // Refused with the gate's reason, and "Promote anyway" offered.
  await expect(outcome).toHaveAttribute('data-outcome', 'rejected');
  await expect(outcome).toContainText('gate rejected:');
  await expect(outcome).toContainText('accuracy');
  await expect(
    v1.locator('[data-testid="mlops-model-alias"][data-alias="champion"]')
  ).toHaveCount(0);
  await outcome.getByTestId('mlops-promote-force').click();
  await expect(outcome).toHaveAttribute('data-outcome', 'promoted');
  await expect(outcome).toContainText(
    'v1 is now @champion — gate rejected, promoted anyway'
  );
  await expect(
    v1.locator('[data-testid="mlops-model-alias"][data-alias="champion"]')
  ).toHaveCount(1);

  // v2 passes the gate: promoted, the champion alias moves from v1 to v2.
  const v2 = version('2');
  await v2.getByTestId('mlops-model-promote').click();
  await v2.getByTestId('mlops-promote-accept').click();
  const moved = v2.getByTestId('mlops-promote-outcome');
  await expect(moved).toHaveAttribute('data-outcome', 'promoted');
  await expect(moved).toContainText(
    'v2 is now @champion (was v1) — gate validated'
  );
  await expect(
    v2.locator('[data-testid="mlops-model-alias"][data-alias="champion"]')
  ).toHaveCount(1);
  await expect(
    v1.locator('[data-testid="mlops-model-alias"][data-alias="champion"]')
  ).toHaveCount(0);
  // v1's "is now @champion" is old news: gone, its Promote button back.
  await expect(v1.getByTestId('mlops-promote-outcome')).toHaveCount(0);
  await expect(v1.getByTestId('mlops-model-promote')).toBeVisible();

  // Every other run now says how it compares with the champion (v2).
  const vs = (await recentRuns(panel))
    .last()
    .locator('[data-testid="mlops-run-vs"][data-alias="champion"]');
  await expect(vs).toContainText('vs champion & challenger v2:');
  await expect(vs).toContainText(/better|worse|same/);
  await vs.scrollIntoViewIfNeeded();
  await page.screenshot({
    path: screenshotPath('panel-runs.png', testInfo.outputDir)
  });
});
