/**
 * One live state: runs started outside the panel (here `jupyter-mlops run` from a terminal,
 * as a child process of the test) show in the open panel as they go, with the side-bar dot
 * and the status-bar item while they run and badges on the step cells; when a run fails,
 * a notification names the step and "Open failing cell" goes to it with its traceback.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as path from 'path';

import {
  CLASSIFICATION_STEPS,
  contrastRatio,
  openExample,
  openPanel,
  PANEL_ID,
  screenshotPath,
  stepRows
} from './helpers';

const RUN_TIMEOUT = 240 * 1000;

/** The venv's bin folder (`make ui-test` sets JUPYTER to its jupyter). */
function binDir(): string {
  if (!process.env.JUPYTER) {
    throw new Error('JUPYTER is not set: run the tests with `make ui-test`');
  }
  return path.dirname(process.env.JUPYTER);
}

/** The root folder of the Jupyter server the tests run against (`jupyter server list`). */
function serverRoot(): string {
  const port = Number(process.env.JUPYTER_MLOPS_UI_PORT || 8899);
  const listed = execFileSync(
    path.join(binDir(), 'jupyter'),
    ['server', 'list', '--json'],
    {
      encoding: 'utf-8'
    }
  );
  for (const line of listed.split('\n').filter(Boolean)) {
    const server = JSON.parse(line) as { port: number; root_dir: string };
    if (server.port === port) {
      return server.root_dir;
    }
  }
  throw new Error(
    `no Jupyter server on port ${port} in \`jupyter server list\``
  );
}

interface ICliRun {
  child: ChildProcess;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  output: () => string;
}

const started: ICliRun[] = [];

/** `jupyter-mlops run ARGS` from the server root, recording in the server's MLflow store. */
function cliRun(root: string, args: string[]): ICliRun {
  const bin = binDir();
  const child = spawn(path.join(bin, 'jupyter-mlops'), ['run', ...args], {
    cwd: root,
    detached: true, // its own process group: stopped with its kernels after the test
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      MLFLOW_TRACKING_URI:
        process.env.MLFLOW_TRACKING_URI ??
        'sqlite:///' + path.join(root, 'mlflow.db'),
      JUPYTER_MLOPS_RUN_SOURCE: '',
      CI: ''
    },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let output = '';
  child.stdout!.on('data', chunk => (output += chunk));
  child.stderr!.on('data', chunk => (output += chunk));
  const exited = new Promise<number | null>(resolve =>
    child.once('exit', code => resolve(code))
  );
  const run = { child, exited, output: () => output };
  started.push(run);
  return run;
}

test.afterEach(async ({}, testInfo) => {
  for (const run of started.splice(0)) {
    if (run.child.exitCode === null && run.child.pid !== undefined) {
      process.kill(-run.child.pid, 'SIGTERM');
      await run.exited;
    }
    await testInfo.attach('jupyter-mlops run output', { body: run.output() });
  }
});

function sidebarTab(page: IJupyterLabPageFixture): Locator {
  return page.locator(`.jp-SideBar .lm-TabBar-tab[data-id="${PANEL_ID}"]`);
}

test('a run started from the CLI shows live in the open panel', async ({
  page,
  tmpPath
}, testInfo) => {
  test.setTimeout(360 * 1000);
  await openExample(page, tmpPath);
  const panel = await openPanel(page);
  await page.sidebar.setWidth(440, 'right');
  await expect(stepRows(panel)).toHaveCount(CLASSIFICATION_STEPS.length);
  await panel.getByTestId('mlops-extract').click();
  await expect(panel.getByTestId('mlops-extract-message')).toContainText(
    'pipelines/classification'
  );

  const root = serverRoot();
  const folder = path.join(root, tmpPath, 'pipelines', 'classification');
  // More trees than the default (100): the form must show the run's value, not its own.
  const run = cliRun(root, [folder, '-p', 'n_estimators=1500']);

  // The panel picks the run up and follows it: running, from the CLI, not cancellable here.
  const status = panel.getByTestId('mlops-run-status');
  await expect(status).toHaveAttribute('data-phase', 'running', {
    timeout: 90 * 1000
  });
  await expect(status.getByTestId('mlops-run-from')).toHaveText('from CLI');
  const form = panel.getByTestId('mlops-params');
  await expect(form).toHaveAttribute('data-running', 'true');
  await expect(
    form.locator('[data-testid="mlops-param"][data-param="n_estimators"]')
  ).toHaveValue('1500');
  await expect(panel.getByTestId('mlops-cancel')).toBeDisabled();
  // While it runs: the dot on the panel's tab and the status-bar item.
  const tab = sidebarTab(page);
  await expect(tab).toHaveClass(/jp-mlops-mod-running/);
  await expect(tab).toHaveAttribute('title', /jupyter_mlops: run going/);
  const item = page.getByTestId('mlops-status-item');
  await expect(item).toBeVisible();
  await expect(item).toHaveText(
    /^mlops: classification ▶ (\d\/5 steps|recording)$/
  );
  // The steps list, the DAG and the cell badges follow the steps.
  const firstStep = CLASSIFICATION_STEPS[0];
  await expect(
    panel.locator(`[data-testid="mlops-step"][data-step="${firstStep}"]`)
  ).toHaveAttribute('data-state', /running|ran/, { timeout: RUN_TIMEOUT });
  const badge = page.locator(
    `.jp-Notebook [data-testid="mlops-cell-badge"][data-step="${firstStep}"]`
  );
  await expect(badge).toHaveAttribute('data-state', /running|ran/);
  await page.screenshot({
    path: screenshotPath('live-running.png', testInfo.outputDir)
  });

  await expect(status).toHaveAttribute('data-phase', 'succeeded', {
    timeout: RUN_TIMEOUT
  });
  // The notification says how it went (it closes itself after a while); the signs go away.
  await expect(
    page.locator('.jp-Notification-Toast-success', {
      hasText: 'classification succeeded'
    })
  ).toContainText('(from CLI)');
  await expect(tab).not.toHaveClass(/jp-mlops-mod-running/);
  await expect(item).toBeHidden();
  expect(await run.exited).toBe(0);
  for (const step of CLASSIFICATION_STEPS) {
    const row = panel.locator(
      `[data-testid="mlops-step"][data-step="${step}"]`
    );
    await expect(row, `step ${step}`).toHaveAttribute('data-state', 'ran');
    await expect(
      panel
        .getByTestId('mlops-dag')
        .locator(`g.jp-mlops-DagNode[data-step="${step}"]`)
    ).toHaveAttribute('data-state', 'ran');
    const cellBadge = page.locator(
      `.jp-Notebook [data-testid="mlops-cell-badge"][data-step="${step}"]`
    );
    await expect(cellBadge).toHaveAttribute('data-state', 'ran');
    await expect(cellBadge).toContainText('done');
  }
});

/** A notebook of two steps whose second one always raises. */
const FAILING_NOTEBOOK = {
  cells: [
    ['%load_ext jupyter_mlops', []],
    ['size = 3', ['parameters']],
    ['%%mlstep make_numbers\nnumbers = list(range(size))', []],
    [
      '%%mlstep boom\ntotal = sum(numbers)\nraise ValueError(f"boom: the total is {total}")',
      []
    ]
  ].map(([source, tags]) => ({
    cell_type: 'code',
    execution_count: null,
    metadata: { tags },
    outputs: [],
    source
  })),
  metadata: {
    kernelspec: {
      display_name: 'Python 3',
      language: 'python',
      name: 'python3'
    },
    language_info: { name: 'python' }
  },
  nbformat: 4,
  nbformat_minor: 5
};

test('a failed run notifies, and "Open failing cell" shows its traceback', async ({
  page,
  tmpPath
}, testInfo) => {
  test.setTimeout(300 * 1000);
  const name = 'failing.ipynb';
  const notebook = `${tmpPath}/${name}`;
  expect(
    await page.contents.uploadContent(
      JSON.stringify(FAILING_NOTEBOOK),
      'text',
      notebook
    )
  ).toBe(true);
  await page.filebrowser.refresh();
  expect(await page.notebook.openByPath(notebook)).toBe(true);
  await page.notebook.activate(name);
  const panel = await openPanel(page);
  await expect(stepRows(panel)).toHaveCount(2);
  // The other tab is active when the run ends: the notification brings the notebook back.
  await page.menu.clickMenuItem('File>New>Text File');

  const root = serverRoot();
  const run = cliRun(root, [path.join(root, notebook), '--no-track']);
  const toast = page.locator('.jp-Notification-Toast-error', {
    hasText: 'failed at step boom'
  });
  await expect(toast).toBeVisible({ timeout: RUN_TIMEOUT });
  await expect(toast).toContainText('ValueError');
  expect(await run.exited).toBe(1);

  await toast
    .locator('.jp-toast-button', { hasText: 'Open failing cell' })
    .click();
  const active = page.locator(
    '.jp-NotebookPanel:visible .jp-Cell.jp-mod-active'
  );
  await expect(active).toContainText('%%mlstep boom');
  const traceback = active.getByTestId('mlops-cell-traceback');
  await expect(traceback).toBeVisible();
  await expect(traceback).toContainText('boom: the total is 3');
  await page.screenshot({
    path: screenshotPath('live-failed-cell.png', testInfo.outputDir)
  });
  await expect(
    active.locator('[data-testid="mlops-cell-badge"][data-step="boom"]')
  ).toHaveAttribute('data-state', 'failed');
  await expect(
    page.locator(
      '.jp-Notebook [data-testid="mlops-cell-badge"][data-step="make_numbers"]'
    )
  ).toHaveAttribute('data-state', 'ran');

  // Readable in both themes (WCAG AA, 4.5:1).
  const boomBadge = active.locator('[data-testid="mlops-cell-badge"]');
  for (const theme of ['light', 'dark']) {
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
      await expect(page.locator('body')).toHaveAttribute(
        'data-jp-theme-light',
        'false'
      );
    }
    const texts: Record<string, Locator> = {
      'badge state': boomBadge.locator('.jp-mlops-CellBadgeState'),
      'badge name': boomBadge.locator('.jp-mlops-CellBadgeName'),
      traceback: traceback.getByTestId('mlops-cell-traceback-text')
    };
    for (const [what, locator] of Object.entries(texts)) {
      expect
        .soft(await contrastRatio(locator), `${what} in the ${theme} theme`)
        .toBeGreaterThanOrEqual(4.5);
    }
  }

  // Hidden on request; the panel shows the failed run too.
  await traceback.getByRole('button', { name: 'Hide' }).click();
  await expect(active.getByTestId('mlops-cell-traceback')).toHaveCount(0);
  await expect(panel.getByTestId('mlops-run-status')).toHaveAttribute(
    'data-phase',
    'failed'
  );
});
