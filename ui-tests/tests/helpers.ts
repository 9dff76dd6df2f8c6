/**
 * Shared steps of the panel tests: put an example notebook on the server, open it, show
 * the panel, and where screenshots go. Hooks are the `data-testid`s documented in
 * labextension/src/panel.tsx.
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

export const REPO = path.resolve(__dirname, '..', '..');
export const PANEL_ID = 'jupyter-mlops-panel';
export const TOGGLE_STEP = 'jupyter-mlops:toggle-step';

/** The example notebook's steps, in notebook order. */
export const CLASSIFICATION_STEPS = ['load_data', 'features', 'split', 'train', 'evaluate'];

/** Upload `notebooks/<name>` into the test's own server folder and open it. */
export async function openExample(
  page: IJupyterLabPageFixture,
  tmpPath: string,
  name = 'classification.ipynb'
): Promise<string> {
  const serverPath = `${tmpPath}/${name}`;
  await page.contents.uploadFile(path.join(REPO, 'notebooks', name), serverPath);
  await page.filebrowser.refresh();
  expect(await page.notebook.openByPath(serverPath)).toBe(true);
  await page.notebook.activate(name);
  return serverPath;
}

/** Click the panel's tab in the right side bar (no-op when it is already shown). */
export async function openPanel(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.sidebar.openTab(PANEL_ID as any);
  const panel = page.locator(`#${PANEL_ID}`);
  await expect(panel).toBeVisible();
  return panel;
}

/** The step rows of the panel, one per step. */
export function stepRows(panel: Locator): Locator {
  return panel.getByTestId('mlops-steps').getByTestId('mlops-step');
}

/**
 * Where screenshots go: `$JUPYTER_MLOPS_SCREENSHOTS` (`make screenshots` sets it to docs/),
 * else the test output folder, so plain test runs never change tracked files.
 */
export function screenshotPath(name: string, fallbackDir: string): string {
  const dir = process.env.JUPYTER_MLOPS_SCREENSHOTS
    ? path.resolve(REPO, process.env.JUPYTER_MLOPS_SCREENSHOTS)
    : fallbackDir;
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
