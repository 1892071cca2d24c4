// Replay Chrome Recorder flows with the Recorder's own library (@puppeteer/replay)
// and print the final state each one leaves, for tests/test_recorder_reference.py.
//
//   node replay.mjs CHROMIUM FLOW.json...   ->  {"FLOW.json": {"state": …} | {"error": …}}
//
// The state is what the flow's last step (added by the test) logs as "REFSTATE {…}":
// the main page's URL, text, form values and the log of DOM events it keeps.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import puppeteer from 'puppeteer-core';
import { createRunner, PuppeteerRunnerExtension } from '@puppeteer/replay';

const [chromium, ...flows] = process.argv.slice(2);
// A step that fails leaves its asserted-events wait rejected with no one awaiting
// it: that flow has failed already, the others must still run.
process.on('unhandledRejection', () => {});
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  // collector's default viewport, so that scroll offsets compare too.
  defaultViewport: { width: 1280, height: 800 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--site-per-process'],
});
const results = {};
try {
  for (const file of flows) {
    const flow = JSON.parse(await readFile(file, 'utf8'));
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    let state = null;
    page.on('console', (message) => {
      const text = message.text();
      if (text.startsWith('REFSTATE ')) state = JSON.parse(text.slice('REFSTATE '.length));
    });
    try {
      const runner = await createRunner(flow, new PuppeteerRunnerExtension(browser, page, { timeout: 10000 }));
      await runner.run();
      results[basename(file)] = { state };
    } catch (error) {
      results[basename(file)] = { error: String(error && error.message || error), state };
    } finally {
      await context.close();
    }
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results));
