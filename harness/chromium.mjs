// Launches Debian's Chromium headless with WebGPU on, through puppeteer-core (which has no install
// script and never downloads a browser).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox', // we run as root in CI
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader', // lets WebGPU use SwiftShader where there is no GPU
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking', // this network is closed: no background fetches
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** The browser to drive: $CHROME_PATH, else Debian's /usr/bin/chromium. */
export function chromePath() {
  const path = process.env.CHROME_PATH || '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `No Chromium at ${path}. Install Debian's package (apt-get install -y chromium) or set CHROME_PATH to a Chrome/Chromium binary.`,
    );
  }
  return path;
}

/** Starts the browser with a fresh profile; `close()` also removes the profile. */
export async function launchChromium(extraArgs = []) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'webgpu-bandits-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: chromePath(),
    headless: true,
    userDataDir,
    args: [...CHROMIUM_FLAGS, ...extraArgs],
    protocolTimeout: 30 * 60 * 1000,
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
