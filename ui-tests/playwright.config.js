/**
 * Playwright configuration for the jupyter_mlops end-to-end tests.
 *
 * Starts on galata's defaults and changes what this machine (and CI) needs:
 * - the Debian `chromium` package (/usr/bin/chromium), never a downloaded browser;
 * - no video (galata's default `retain-on-failure` needs a downloaded ffmpeg);
 * - one worker: the tests share one JupyterLab server on a 2-core machine;
 * - JupyterLab started by Playwright from the project venv (`JUPYTER`, set by `make ui-test`).
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const port = Number(process.env.JUPYTER_MLOPS_UI_PORT || 8899);
const jupyter = process.env.JUPYTER || 'jupyter';
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';

module.exports = {
  ...baseConfig,
  testDir: './tests',
  outputDir: './test-results',
  reporter: [['list']],
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 180 * 1000,
  expect: { timeout: 30 * 1000 },
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1366, height: 860 },
    video: 'off',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    actionTimeout: 30 * 1000,
    launchOptions: {
      executablePath: chromium,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run'
      ]
    }
  },
  webServer: {
    // The server log goes to ui-tests/jupyter-server.log (printed by `make ui-test` on failure).
    command: `"${jupyter}" lab --config jupyter_server_test_config.py --ServerApp.port=${port} > jupyter-server.log 2>&1`,
    url: `http://127.0.0.1:${port}/lab`,
    timeout: 120 * 1000,
    reuseExistingServer: false
  }
};
