import { test } from '@jupyterlab/galata';
import { contrastRatio, openExample, openPanel } from './helpers';
test('debug contrast', async ({ page, tmpPath }) => {
  await openExample(page, tmpPath);
  const panel = await openPanel(page);
  await page.waitForTimeout(2000);
  const ids = ['mlops-step-name', 'mlops-step-inputs', 'mlops-run', 'mlops-extract', 'mlops-notebook', 'mlops-models-empty', 'mlops-models-reload'];
  for (const theme of ['light', 'dark']) {
    if (theme === 'dark') await page.theme.setDarkTheme();
    for (const id of ids) {
      const loc = panel.getByTestId(id).first();
      if (await loc.count()) console.log(theme, id, (await contrastRatio(loc)).toFixed(2));
    }
    console.log(theme, 'cell-dot', (await contrastRatio(panel.locator('.jp-mlops-StepCell').first())).toFixed(2));
  }
});
