/**
 * The `%mlops panel` widget inside the classification notebook, as JupyterLab draws it
 * (1280 px wide, light and dark): a header that wraps instead of being cut, no internal
 * wording nor absolute path, parameter fields lined up in one column, a Cancel that looks
 * disabled, table items never broken inside a name, secondary sections folded so the
 * widget stays short, readable text in both themes.
 */
import { expect, test } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';

import { contrastRatio, openExample, screenshotPath } from './helpers';

/** The widget was 1,440 px tall at this size before its sections were folded. */
const MAX_HEIGHT = 1000;

async function expectReadable(widget: Locator, theme: string): Promise<void> {
  const texts: Record<string, Locator> = {
    header: widget
      .locator('.widget-html-content')
      .first()
      .locator('span')
      .first(),
    'header path (muted)': widget
      .locator('.widget-html-content')
      .first()
      .locator('span')
      .nth(1),
    'parameter label': widget.locator('.widget-gridbox span').first(),
    'step name': widget.locator('table.jupyter-mlops-steps td').first(),
    'table heading': widget.locator('table.jupyter-mlops-steps th').first()
  };
  for (const [what, locator] of Object.entries(texts)) {
    expect
      .soft(await contrastRatio(locator), `${what} contrast, ${theme} theme`)
      .toBeGreaterThanOrEqual(4.5);
  }
}

// 1280 wide; tall enough for the whole widget in the screenshots
test.use({ viewport: { width: 1280, height: 1100 } });

test('the %mlops panel widget is short, aligned and readable', async ({
  page,
  tmpPath
}, testInfo) => {
  test.setTimeout(240 * 1000);
  await openExample(page, tmpPath);
  await page.notebook.addCell(
    'code',
    '%load_ext jupyter_mlops\n%mlops panel classification.ipynb'
  );
  const last = (await page.notebook.getCellCount()) - 1;
  await page.notebook.runCell(last);
  const widget = page.locator('.jupyter-mlops-panel');
  await expect(widget).toBeVisible({ timeout: 120 * 1000 });
  await expect(widget.locator('table.jupyter-mlops-steps tr')).toHaveCount(6);

  const header = widget.locator('.widget-html-content').first();
  await expect(header).toContainText('Pipeline classification');
  await expect(header).toContainText(
    'classification.ipynb → pipelines/classification/'
  );
  await expect(header).not.toContainText('found');
  await expect(header).not.toContainText(tmpPath);
  expect(
    await header.evaluate(el => el.scrollWidth <= el.clientWidth + 1)
  ).toBe(true);

  // one column of fields: every input starts at the same x
  const inputs = widget.locator('.widget-gridbox input');
  await expect(inputs).toHaveCount(4);
  const lefts = await inputs.evaluateAll(els =>
    els.map(el => Math.round(el.getBoundingClientRect().left))
  );
  expect(new Set(lefts).size).toBe(1);

  const cancel = widget.getByRole('button', { name: 'Cancel' });
  await expect(cancel).toBeDisabled();
  await expect(cancel).not.toHaveClass(/mod-warning/);

  // names are never broken: every item of the table is on one line
  const broken = await widget
    .locator('table.jupyter-mlops-steps span[style*="nowrap"]')
    .evaluateAll(
      els => els.filter(el => el.getClientRects().length > 1).length
    );
  expect(broken).toBe(0);

  await expect(widget.locator('.jupyter-widget-Collapse-header')).toHaveText(
    /Models and monitoring/
  );
  await expect(widget.locator('.jupyter-widget-Collapse-open')).toHaveCount(0);
  const height = (await widget.boundingBox())?.height ?? 0;
  console.log(`the widget is ${Math.round(height)} px tall`);
  expect(height).toBeLessThan(MAX_HEIGHT);

  await widget.scrollIntoViewIfNeeded();
  await expectReadable(widget, 'light');
  await widget.screenshot({
    path: screenshotPath('widget-panel-light.png', testInfo.outputDir)
  });
  await page.theme.setDarkTheme();
  await expect(page.locator('body')).toHaveAttribute(
    'data-jp-theme-light',
    'false'
  );
  await widget.scrollIntoViewIfNeeded();
  await expectReadable(widget, 'dark');
  await widget.screenshot({
    path: screenshotPath('widget-panel-dark.png', testInfo.outputDir)
  });
});
