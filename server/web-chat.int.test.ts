import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaissMemory } from "../memory/index.js";
import { FakeCouncilRuntime } from "../test/fakes/fake-runtime.js";
import { startTestServer, type TestServer } from "../test/helpers/chat-server.js";

interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  querySelector(selector: string): PageElement | null;
}
type PageDocument = Pick<PageElement, "querySelector">;

const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

describe("web chat page in real Chromium", () => {
  let dir: string;
  let browser: Browser;
  let server: TestServer;
  let memory: FaissMemory;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-web-"));
    memory = await FaissMemory.create({ dir: join(dir, "memory") });
    const runtime = new FakeCouncilRuntime({
      memory,
      tokenDelayMs: 40,
      answer: (text) => `To ${text.toLowerCase()}, open a terminal and run the command shown in the knowledge base, then check the result carefully.`,
    });
    server = await startTestServer({ runtime });
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("streams an answer, shows the trace id, and a 👎 with a correction reaches memory", async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    await page.goto(server.httpUrl);
    await page.getByTestId("status").filter({ hasText: "connected" }).waitFor();

    await page.getByTestId("question").fill("Reset a user password");
    await page.getByTestId("send").click();
    const turn = page.locator("article.turn").first();
    // Streaming: part of the answer is on screen before the final frame marks the turn done.
    // Browser-side functions (this file is type-checked without the DOM lib; the page's CSP forbids string eval).
    await page.waitForFunction(() => {
      const article = (globalThis as unknown as { document: PageDocument }).document.querySelector("article.turn");
      const answer = article?.querySelector(".answer")?.textContent ?? "";
      return answer.length > 0 && article?.dataset.done !== "true";
    });
    await page.waitForFunction(() => (globalThis as unknown as { document: PageDocument }).document.querySelector("article.turn")?.dataset.done === "true");
    const answer = await turn.getByTestId("answer").textContent();
    expect(answer).toBe("To reset a user password, open a terminal and run the command shown in the knowledge base, then check the result carefully.");
    const traceId = await turn.getAttribute("data-trace-id");
    expect(traceId).toBeTruthy();
    expect(await turn.getByTestId("trace-id").textContent()).toContain(traceId!);
    expect(await memory.get(traceId!)).toMatchObject({ question: "Reset a user password", answer, success: true, feedback: null });

    await turn.getByTestId("thumbs-down").click();
    await turn.getByTestId("feedback-ack").filter({ hasText: "recorded" }).waitFor();
    expect(await memory.get(traceId!)).toMatchObject({ success: false, feedback: { rating: -1 } });
    await turn.getByTestId("correction").fill("Run: sudo passwd <user>");
    await turn.getByTestId("send-correction").click();
    await expect.poll(async () => (await memory.get(traceId!))?.feedback?.correction).toBe("Run: sudo passwd <user>");
    expect((await memory.failures()).map((record) => record.traceId)).toContain(traceId);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
