/**
 * The panel on the classification example in both themes at 1280×800 and 1920×1080: its
 * opening width, a heading per section, the extraction's changed files, text contrast
 * (WCAG AA, 4.5:1) of headings, step rows, form labels and muted text, and the screenshots
 * docs/panel-{light,dark}-{1280,1920}.png (`make screenshots` writes them into docs/).
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';

import {
  CLASSIFICATION_STEPS,
  contrastRatio,
  openExample,
  openPanel,
  PANEL_ID,
  screenshotPath,
  stepRows
} from './helpers';

/** Screen sizes and the panel width each opens at (labextension/src/core/panelWidth.ts). */
const SIZES = [
  { width: 1280, height: 800, panel: 400 },
  { width: 1920, height: 1080, panel: 480 }
];
/** Rounding of the split panel's layout. */
const WIDTH_SLACK = 4;
/** The headings of the panel's sections, in order (other plugins' sections last). */
const SECTIONS = [
  /^Run$/,
  /^DAG$/,
  /^Steps \(5\)$/,
  /^Models/,
  /^Deployments$/,
  /^Monitoring$/
];

/** The panel's texts that must stay readable, by what they are. */
function readableTexts(panel: Locator): Record<string, Locator> {
  return {
    'section heading': panel.getByTestId('mlops-heading').first(),
    'Deployments heading': panel.locator(
      '[data-testid="mlops-section"][data-section="deployments"] h3'
    ),
    'Parameters heading': panel.locator('.jp-mlops-Params > summary'),
    'heading count': panel.locator('.jp-mlops-HeadingCount').first(),
    'step name': panel.getByTestId('mlops-step-name').first(),
    'step status': panel.getByTestId('mlops-step-status').first(),
    'step inputs': panel.getByTestId('mlops-step-inputs').last(),
    'step field label': panel.locator('.jp-mlops-StepFieldLabel').first(),
    'form label': panel.locator('.jp-mlops-ParamsGrid label').first(),
    'form note (muted)': panel.locator('.jp-mlops-ParamNote').first(),
    'scan state (muted)': panel.locator('.jp-mlops-ScanState'),
    'run status': panel.getByTestId('mlops-run-status'),
    'extract message': panel.getByTestId('mlops-extract-message'),
    'model metrics (muted)': panel.getByTestId('mlops-metrics').first()
  };
}

async function expectReadable(panel: Locator, theme: string): Promise<void> {
  for (const [what, locator] of Object.entries(readableTexts(panel))) {
    await expect(locator).toBeVisible();
    expect
      .soft(await contrastRatio(locator), `${what} contrast, ${theme} theme`)
      .toBeGreaterThanOrEqual(4.5);
  }
}

async function panelWidth(page: IJupyterLabPageFixture): Promise<number> {
  const box = await page.locator(`#${PANEL_ID}`).boundingBox();
  return box?.width ?? 0;
}

/** The first step's cell in view beside the panel, the panel scrolled to its top, no
 * notification toast over it. */
async function showTop(
  page: IJupyterLabPageFixture,
  panel: Locator
): Promise<void> {
  await page.evaluate(() =>
    (window as any).jupyterapp.commands.execute('apputils:dismiss-notification')
  );
  await expect(page.locator('.Toastify__toast')).toHaveCount(0);
  await stepRows(panel).first().getByTestId('mlops-step-name').click();
  await panel.getByTestId('mlops-notebook').scrollIntoViewIfNeeded();
}

/** Extract, open the changed files' list, then run to the end (a model version registered). */
async function extractAndRun(
  page: IJupyterLabPageFixture,
  panel: Locator
): Promise<void> {
  await panel.getByTestId('mlops-extract').click();
  const message = panel.getByTestId('mlops-extract-message');
  await expect(message).toContainText('pipelines/classification');
  await expect(message).toHaveAttribute('data-failed', 'false');
  const files = panel.getByTestId('mlops-extract-files');
  await expect(files.locator('summary')).toHaveText(/^\d+ files? changed$/);
  await files.locator('summary').click();
  await expect(files.getByTestId('mlops-extract-file').first()).toBeVisible();
  await files.locator('summary').click();

  await panel.getByTestId('mlops-run').click();
  await expect(panel.getByTestId('mlops-run-status')).toHaveAttribute(
    'data-phase',
    'succeeded',
    { timeout: 240 * 1000 }
  );
  await expect(panel.getByTestId('mlops-model-version').first()).toBeVisible();
}

for (const size of SIZES) {
  test.describe(`the panel at ${size.width}×${size.height}`, () => {
    test.use({ viewport: { width: size.width, height: size.height } });

    test('light and dark', async ({ page, tmpPath }, testInfo) => {
      test.setTimeout(360 * 1000);
      await openExample(page, tmpPath);
      const panel = await openPanel(page);
      await expect(stepRows(panel)).toHaveCount(CLASSIFICATION_STEPS.length);
      await expect
        .poll(() => panelWidth(page))
        .toBeGreaterThanOrEqual(size.panel - WIDTH_SLACK);
      const opened = await panelWidth(page);
      console.log(
        `the panel opened ${Math.round(opened)} px wide at ${size.width}`
      );
      expect(opened).toBeLessThanOrEqual(size.panel + WIDTH_SLACK);
      await expect(panel.locator('.jp-mlops-SectionHead h3')).toHaveText(
        SECTIONS
      );

      await extractAndRun(page, panel);
      await panel.locator('.jp-mlops-Params > summary').click();
      await expect(
        panel.getByTestId('mlops-param-field').first()
      ).toBeVisible();
      await showTop(page, panel);

      await expectReadable(panel, 'light');
      await page.screenshot({
        path: screenshotPath(
          `panel-light-${size.width}.png`,
          testInfo.outputDir
        )
      });
      await page.theme.setDarkTheme();
      await expect(page.locator('body')).toHaveAttribute(
        'data-jp-theme-light',
        'false'
      );
      await showTop(page, panel);
      await expectReadable(panel, 'dark');
      await page.screenshot({
        path: screenshotPath(`panel-dark-${size.width}.png`, testInfo.outputDir)
      });
      // the end of the panel (Models, Recent runs, other plugins' sections): test output only
      await panel
        .locator('[data-testid="mlops-section"]')
        .last()
        .scrollIntoViewIfNeeded();
      await page.screenshot({
        path: testInfo.outputPath(`panel-end-dark-${size.width}.png`)
      });
    });
  });
}

test.describe('the panel width', () => {
  test.use({ viewport: { width: 1280, height: 800 } });

  test('opens at its width once, then keeps the one the user gave it', async ({
    page,
    tmpPath
  }) => {
    await openExample(page, tmpPath);
    await openPanel(page);
    await expect
      .poll(() => panelWidth(page))
      .toBeGreaterThanOrEqual(400 - WIDTH_SLACK);
    await page.sidebar.setWidth(330, 'right');
    await expect.poll(() => panelWidth(page)).toBeLessThan(360);
    const chosen = await panelWidth(page);
    await page.sidebar.close('right');
    await expect(page.locator(`#${PANEL_ID}`)).toBeHidden();
    await openPanel(page);
    await expect
      .poll(() => panelWidth(page))
      .toBeGreaterThanOrEqual(chosen - WIDTH_SLACK);
    expect(await panelWidth(page)).toBeLessThanOrEqual(chosen + WIDTH_SLACK);
  });

  test('a section of files the extraction changed opens a file', async ({
    page,
    tmpPath
  }) => {
    await openExample(page, tmpPath);
    const panel = await openPanel(page);
    await expect(stepRows(panel)).toHaveCount(CLASSIFICATION_STEPS.length);
    await panel.getByTestId('mlops-extract').click();
    const files = panel.getByTestId('mlops-extract-files');
    await files.locator('summary').click();
    const yaml = files.locator(
      '[data-testid="mlops-extract-file"][data-path$="pipeline.yaml"]'
    );
    await yaml.click();
    await expect(
      page.locator('#jp-main-dock-panel .lm-TabBar-tab', {
        hasText: 'pipeline.yaml'
      })
    ).toBeVisible();
  });
});
