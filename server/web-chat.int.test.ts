import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaissMemory, type MemoryStore } from "../memory/index.js";
import { FakeCouncilRuntime } from "../test/fakes/fake-runtime.js";
import { startTestServer, type TestServer } from "../test/helpers/chat-server.js";
import { launchChromium, screenshot, type TestBrowser } from "../test/helpers/chromium.js";
import { createRealCouncil } from "../test/helpers/real-council.js";

interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  querySelector(selector: string): PageElement | null;
}
type PageDocument = Pick<PageElement, "querySelector">;

let browser: TestBrowser;
const dirs: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "council-web-"));
  dirs.push(dir);
  return dir;
}

/** Asks one question on the page, rates it "Not helpful" with a correction; returns the trace id and shown answer. */
async function askAndRate({ server, memory, question, strictStreaming, name }: { server: TestServer; memory: MemoryStore; question: string; strictStreaming: boolean; name: string }) {
  const page = await browser.context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  await page.goto(server.httpUrl);
  await page.locator('[data-testid="connection"][data-state="open"]').waitFor();

  await page.getByTestId("question").fill(question);
  await page.getByTestId("send").click();
  const turn = page.locator("article.turn").first();
  // Browser-side functions (this file is type-checked without the DOM lib; the page's CSP forbids string eval).
  if (strictStreaming) {
    // Part of the answer is on screen, shown as a draft, before the final frame marks the turn done.
    await page.waitForFunction(() => {
      const article = (globalThis as unknown as { document: PageDocument }).document.querySelector("article.turn");
      const answer = article?.querySelector(".answer")?.textContent ?? "";
      return answer.length > 0 && article?.dataset.state === "drafting";
    });
  }
  await page.waitForFunction(() => (globalThis as unknown as { document: PageDocument }).document.querySelector("article.turn")?.dataset.state === "done", undefined, { timeout: 120_000 });
  expect(Number(await turn.getAttribute("data-tokens"))).toBeGreaterThan(0);
  const answer = (await turn.getByTestId("answer").textContent()) ?? "";
  const traceId = await turn.getAttribute("data-trace-id");
  expect(traceId).toBeTruthy();
  expect(await turn.getByTestId("trace-id").textContent()).toContain(traceId!);
  // The page shows the final answer; memory records what the model drafted. They differ only when the critic
  // failed the draft and the council answered with a fallback (the draft is recorded as the failure).
  const source = turn.getByTestId("source");
  const sourceKind = await source.getAttribute("data-kind");
  const record = await memory.get(traceId!);
  if (sourceKind === "fallback") {
    expect(await source.textContent()).toMatch(/^(From the knowledge base: .+|Fallback: the draft failed review)$/);
    expect(record).toMatchObject({ question, success: false, feedback: null });
  } else {
    expect(await source.textContent()).toMatch(/^(Model · (base model|adapter .+)|Verified answer \(entry .+\))$/);
    expect(record).toMatchObject({ question, answer, feedback: null });
  }

  await screenshot(page, name);
  await turn.getByTestId("not-helpful").click();
  await turn.getByTestId("feedback-ack").filter({ hasText: "recorded" }).waitFor();
  expect(await memory.get(traceId!)).toMatchObject({ success: false, feedback: { rating: -1 } });
  await turn.getByTestId("correction").fill("Run: sudo passwd <user>");
  await turn.getByTestId("send-correction").click();
  await expect.poll(async () => (await memory.get(traceId!))?.feedback?.correction).toBe("Run: sudo passwd <user>");
  expect((await memory.failures()).map((record) => record.traceId)).toContain(traceId);
  expect(pageErrors).toEqual([]);
  await page.close();
  return { traceId: traceId!, answer };
}

describe("web chat page in real Chromium", () => {
  it("on the real council (seedling, else a tiny GGUF) and FaissMemory: a question gets a streamed answer and Not helpful reaches memory", async () => {
    const dir = await tempDir();
    const { council, memory, model } = await createRealCouncil({ dir });
    const server = await startTestServer({ runtime: council });
    try {
      const { answer } = await askAndRate({ server, memory, question: "How do I reset a user password?", strictStreaming: false, name: "real-council" });
      expect(answer.length, `model ${model}`).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it("streams visibly, token by token (fake runtime pacing tokens, real FaissMemory)", async () => {
    const dir = await tempDir();
    const memory = await FaissMemory.create({ dir: join(dir, "memory") });
    const runtime = new FakeCouncilRuntime({
      memory,
      tokenDelayMs: 40,
      answer: (text) => `To ${text.toLowerCase()}, open a terminal and run the command shown in the knowledge base, then check the result carefully.`,
    });
    const server = await startTestServer({ runtime });
    try {
      const { answer } = await askAndRate({ server, memory, question: "Reset a user password", strictStreaming: true, name: "streamed" });
      expect(answer).toBe("To reset a user password, open a terminal and run the command shown in the knowledge base, then check the result carefully.");
    } finally {
      await server.close();
    }
  });
});
