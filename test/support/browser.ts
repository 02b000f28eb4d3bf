import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { noteRun } from './notes';

/** Debian's Chromium (apt-get install -y chromium): playwright-core drives it and never downloads a browser. */
export const CHROMIUM = '/usr/bin/chromium';

export const hasChromium = (): boolean => fs.existsSync(CHROMIUM);

/** `describe`, or nothing but one line in the run's notes when Chromium is not installed here. */
export function describeBrowser(title: string, fn: (this: Mocha.Suite) => void): void {
  if (!hasChromium()) {
    noteRun(`browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
    return;
  }
  describe(title, fn);
}

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile in a temp folder, removed on close. */
export async function launchBrowser(viewport = { width: 1280, height: 900 }): Promise<TestBrowser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'skyrelay-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      await fs.promises.rm(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in to the dashboard with the admin token, as a person does, and waits for the overview. */
export async function signInToDashboard(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/ui`);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}
