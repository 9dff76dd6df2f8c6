import { test } from '@jupyterlab/galata';
import { openExample, openPanel } from './helpers';
test('debug layout', async ({ page, tmpPath }) => {
  await openExample(page, tmpPath);
  const panel = await openPanel(page);
  await page.waitForTimeout(3000);
  const info = await panel.evaluate(root => {
    const out: string[] = [];
    const walk = (el: Element, depth: number) => {
      if (depth > 5) return;
      const cs = getComputedStyle(el);
      const h = el as HTMLElement;
      out.push(`${'  '.repeat(depth)}${el.tagName}.${el.className} client=${h.clientHeight} scroll=${h.scrollHeight} overflowY=${cs.overflowY} display=${cs.display} pos=${cs.position} top=${cs.top} height=${cs.height}`);
      for (const c of Array.from(el.children).slice(0, 6)) walk(c, depth + 1);
    };
    walk(root, 0);
    return out.join('\n');
  });
  console.log(info);
  const reload = panel.getByTestId('mlops-models-reload');
  console.log('box before', JSON.stringify(await reload.boundingBox()));
  await reload.scrollIntoViewIfNeeded();
  console.log('box after', JSON.stringify(await reload.boundingBox()));
  console.log('scrollTop', await panel.locator('.jp-SidePanel-content').evaluate(e => e.scrollTop));
  await reload.click({ timeout: 5000 });
  console.log('clicked');

});
