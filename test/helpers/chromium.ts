import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Locator, type Page } from "playwright-core";
import { PROJECT_ROOT } from "../../core/index.js";

/** The distribution's Chromium (installed by setup's apt step). */
export const CHROMIUM_PATH = "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** Screenshots of the web page tests (gitignored). */
export const WEB_SCREENSHOT_DIR = join(PROJECT_ROOT, "test-output", "web");

export interface TestBrowser {
  context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** Real Chromium on a fresh profile (`--user-data-dir` in a new temp folder). */
export async function launchChromium({ viewport = { width: 1024, height: 768 } }: { viewport?: { width: number; height: number } } = {}): Promise<TestBrowser> {
  const userDataDir = await mkdtemp(join(tmpdir(), "council-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, viewport });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Saves a full-viewport screenshot under test-output/web/ and prints its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(WEB_SCREENSHOT_DIR, { recursive: true });
  const path = join(WEB_SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path });
  console.log(`screenshot: ${path}`);
  return path;
}

interface BrowserElement {
  contains(other: unknown): boolean;
}

/**
 * Whether `locator` is on screen and on top: its box lies inside the viewport, and the element found at the
 * centre and just inside each corner of its box is the element itself or inside it (nothing covers or clips it:
 * no sticky bar on top, no scroll container cutting it off).
 */
export async function isUncovered(page: Page, locator: Locator): Promise<{ inViewport: boolean; onTop: boolean }> {
  const box = await locator.boundingBox();
  const viewport = page.viewportSize();
  if (box === null || viewport === null) return { inViewport: false, onTop: false };
  const inViewport = box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height;
  const inset = 6;
  const points = [
    { x: box.x + box.width / 2, y: box.y + box.height / 2 },
    { x: box.x + inset, y: box.y + inset },
    { x: box.x + box.width - inset, y: box.y + inset },
    { x: box.x + inset, y: box.y + box.height - inset },
    { x: box.x + box.width - inset, y: box.y + box.height - inset },
  ];
  // Runs in the page (this file is type-checked without the DOM lib).
  const onTop = await locator.evaluate((element: BrowserElement, probes) => {
    const document = (globalThis as unknown as { document: { elementFromPoint(x: number, y: number): unknown } }).document;
    return probes.every((point) => {
      const top = document.elementFromPoint(point.x, point.y);
      return top !== null && element.contains(top);
    });
  }, points);
  return { inViewport, onTop };
}
