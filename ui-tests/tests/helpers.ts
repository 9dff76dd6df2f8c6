/**
 * Shared steps of the panel tests: put an example notebook on the server, open it, show
 * the panel, and where screenshots go. Hooks are the `data-testid`s documented in
 * labextension/src/views/panel.tsx.
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

export const REPO = path.resolve(__dirname, '..', '..');
export const PANEL_ID = 'jupyter-mlops-panel';
export const TOGGLE_STEP = 'jupyter-mlops:toggle-step';

/** The example notebook's steps, in notebook order. */
export const CLASSIFICATION_STEPS = [
  'load_data',
  'features',
  'split',
  'train',
  'evaluate'
];

/**
 * Upload `notebooks/<name>` into the test's own server folder (as `saveAs`: the pipeline and
 * its model take that name, apart from other tests' runs in the session's MLflow store) and
 * open it.
 */
export async function openExample(
  page: IJupyterLabPageFixture,
  tmpPath: string,
  name = 'classification.ipynb',
  saveAs = name
): Promise<string> {
  const serverPath = `${tmpPath}/${saveAs}`;
  await page.contents.uploadFile(
    path.join(REPO, 'notebooks', name),
    serverPath
  );
  await page.filebrowser.refresh();
  expect(await page.notebook.openByPath(serverPath)).toBe(true);
  await page.notebook.activate(saveAs);
  return serverPath;
}

/** Click the panel's tab in the right side bar (no-op when it is already shown). */
export async function openPanel(
  page: IJupyterLabPageFixture
): Promise<Locator> {
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

/**
 * WCAG contrast ratio of an element's text colour against the first opaque background
 * behind it (walking up the ancestors), as rendered in the current theme.
 */
export async function contrastRatio(target: Locator): Promise<number> {
  return target.evaluate(el => {
    const rgba = (css: string): number[] => {
      const ctx = document.createElement('canvas').getContext('2d')!;
      ctx.fillStyle = '#000';
      ctx.fillStyle = css; // normalizes any CSS colour syntax
      ctx.fillRect(0, 0, 1, 1);
      const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
      return [r, g, b, a / 255];
    };
    const parse = (css: string): number[] => {
      const m = css.match(/rgba?\(([^)]+)\)/);
      if (!m) {
        return rgba(css);
      }
      const parts = m[1]
        .split(/[ ,/]+/)
        .filter(Boolean)
        .map(Number);
      return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
    };
    const luminance = ([r, g, b]: number[]): number => {
      const lin = (c: number) => {
        const s = c / 255;
        return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
      };
      return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    };
    let background: number[] | null = null;
    for (let node: Element | null = el; node; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg[3] > 0.5) {
        background = bg;
        break;
      }
    }
    const fg = parse(getComputedStyle(el).color);
    const l1 = luminance(fg);
    const l2 = luminance(background ?? [255, 255, 255, 1]);
    return (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  });
}
