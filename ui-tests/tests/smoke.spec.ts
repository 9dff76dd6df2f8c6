import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

const EXAMPLE = path.resolve(__dirname, '..', '..', 'notebooks', 'classification.ipynb');

test('JupyterLab loads and opens an example notebook', async ({ page, tmpPath }) => {
  await page.contents.uploadFile(EXAMPLE, `${tmpPath}/classification.ipynb`);
  await page.filebrowser.refresh();
  expect(await page.notebook.openByPath(`${tmpPath}/classification.ipynb`)).toBe(true);
  await expect(page.locator('.jp-Notebook .jp-Cell').first()).toBeVisible();
  expect(await page.notebook.getCellTextInput(0)).toBeTruthy();
});
