import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeMemoryStore } from "../test/fakes/index.js";
import { FakeCouncilRuntime, type FakeCouncilRuntimeOptions } from "../test/fakes/fake-runtime.js";
import { startTestServer, type TestServer } from "../test/helpers/chat-server.js";
import { isUncovered, launchChromium, screenshot, type TestBrowser } from "../test/helpers/chromium.js";

type Source = ReturnType<NonNullable<FakeCouncilRuntimeOptions["source"]>>;

const ADAPTER = "3f2a9c1d7e5b4a60";
/** The fake answers each question from the source its first word names. */
const SOURCES: Record<string, Source> = {
  adapter: { kind: "model", adapter: ADAPTER },
  base: { kind: "model", adapter: null },
  memory: { kind: "memory", adapter: null, entry: "v-42" },
  fallback: { kind: "fallback", adapter: null, page: "passwd" },
};
const FAILED_DRAFT = "The password is probably hunter2, just type it in.";
const FALLBACK_ANSWER = "I could not verify an answer. The knowledge base page passwd says: run sudo passwd <user>.";

const sourceFor = (text: string): Source => SOURCES[text.split(" ")[0]!] ?? { kind: "model", adapter: null };
const answerFor = (text: string): string => (text.startsWith("fallback") ? FALLBACK_ANSWER : `Final answer to "${text}".`);

let browser: TestBrowser;

beforeAll(async () => {
  browser = await launchChromium({ viewport: { width: 820, height: 560 } });
});

afterAll(async () => {
  await browser?.close();
});

/** Opens the chat page and waits for the connection; uncaught page errors land in `errors`. */
async function openPage(server: TestServer): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    // A failed WebSocket handshake while the server is down is expected in the reconnect test.
    if (message.type() === "error" && !message.text().includes("WebSocket connection")) errors.push(message.text());
  });
  await page.goto(server.httpUrl);
  await connectionState(page, "open");
  return { page, errors };
}

function connectionState(page: Page, state: "open" | "closed" | "connecting", timeout = 5000) {
  return page.locator(`[data-testid="connection"][data-state="${state}"]`).waitFor({ timeout });
}

/** Types a question, sends it with Enter, and returns its turn. */
async function ask(page: Page, text: string): Promise<Locator> {
  const index = await page.locator("article.turn").count();
  await page.getByTestId("question").fill(text);
  await page.getByTestId("question").press("Enter");
  return page.locator("article.turn").nth(index);
}

function turnState(turn: Locator, state: string, timeout = 10_000) {
  return expect.poll(() => turn.getAttribute("data-state"), { timeout }).toBe(state);
}

/** Lets held turns go on (the generation queue starts the waiting ones as running ones finish) until every turn is done. */
async function releaseUntilDone(runtime: FakeCouncilRuntime, turns: Locator[]): Promise<void> {
  for (const turn of turns) {
    await expect
      .poll(async () => {
        runtime.release();
        return turn.getAttribute("data-state");
      })
      .toBe("done");
  }
}

describe("web chat page in real Chromium (fake runtime)", () => {
  it("shows the draft as a draft, replaces it with the final answer, labels each source, and takes labelled feedback in a visible correction box", async () => {
    const memory = new FakeMemoryStore();
    const runtime = new FakeCouncilRuntime({
      memory,
      holdAfterDraft: true,
      tokenDelayMs: 5,
      draft: (text) => (text.startsWith("fallback") ? FAILED_DRAFT : answerFor(text)),
      answer: answerFor,
      source: sourceFor,
    });
    const server = await startTestServer({ runtime });
    try {
      const { page, errors } = await openPage(server);

      // Draft: streamed text is on screen, marked as a draft, while the council holds the final frame.
      const fallback = await ask(page, "fallback how do I reset my password?");
      await expect.poll(() => runtime.held).toBe(1);
      await turnState(fallback, "drafting");
      expect(await fallback.getByTestId("answer").textContent()).toBe(FAILED_DRAFT);
      expect(await fallback.getByTestId("turn-state").textContent()).toContain("Drafting");
      expect(await fallback.getByTestId("answer").evaluate((element) => (globalThis as unknown as { getComputedStyle(e: unknown): { fontStyle: string } }).getComputedStyle(element).fontStyle)).toBe("italic");
      await screenshot(page, "draft");
      runtime.release();
      await turnState(fallback, "done");
      expect(await fallback.getByTestId("answer").textContent()).toBe(FALLBACK_ANSWER);
      expect(await fallback.getByTestId("turn-state").textContent()).toBe("Final answer · replaced the draft");
      expect(await fallback.getByTestId("source").textContent()).toBe("From the knowledge base: passwd");

      const expected: Array<[string, string]> = [
        ["base what is a process?", "Model · base model"],
        ["memory how do I list files?", "Verified answer (entry v-42)"],
        ["adapter how do I show disk usage?", "Model · adapter 3f2a9c1d7e…"],
      ];
      const answered: Locator[] = [];
      for (const [question, label] of expected) {
        const turn = await ask(page, question);
        await expect.poll(() => runtime.held).toBe(1);
        runtime.release();
        await turnState(turn, "done");
        expect(await turn.getByTestId("answer").textContent()).toBe(answerFor(question));
        expect(await turn.getByTestId("turn-state").textContent()).toBe("Final answer");
        expect(await turn.getByTestId("source").textContent()).toBe(label);
        answered.push(turn);
      }
      await screenshot(page, "sources");

      // Labelled buttons (text and an inline SVG icon, no emoji font needed); "Helpful" reaches the server.
      const adapterTurn = answered[2]!;
      const helpful = adapterTurn.getByRole("button", { name: "Helpful", exact: true });
      expect((await helpful.innerText()).trim()).toBe("Helpful");
      expect(await helpful.locator("svg").count()).toBe(1);
      expect((await adapterTurn.getByRole("button", { name: "Not helpful", exact: true }).innerText()).trim()).toBe("Not helpful");
      // Nothing on the page needs an emoji font (without one, 👍/👎 render as empty boxes).
      expect(await page.locator("body").innerText()).not.toMatch(/\p{Extended_Pictographic}/u);
      await helpful.click();
      await adapterTurn.getByTestId("feedback-ack").filter({ hasText: "feedback recorded" }).waitFor();
      const adapterTrace = (await adapterTurn.getAttribute("data-trace-id"))!;
      expect((await memory.get(adapterTrace))?.feedback).toMatchObject({ rating: 1 });
      expect(await helpful.getAttribute("aria-pressed")).toBe("true");

      // "Not helpful" on the last answer (at the bottom, by the input bar): the correction box is on screen and on top.
      const last = adapterTurn;
      await last.getByTestId("not-helpful").click();
      const box = last.getByTestId("correction-form");
      await box.waitFor({ state: "visible" });
      expect(await isUncovered(page, box)).toEqual({ inViewport: true, onTop: true });
      expect(await isUncovered(page, last.getByTestId("send-correction"))).toEqual({ inViewport: true, onTop: true });
      await screenshot(page, "correction");
      await expect.poll(async () => (await memory.get(adapterTrace))?.feedback?.rating).toBe(-1);
      await last.getByTestId("correction").fill("Run: du -sh *");
      await last.getByTestId("send-correction").click();
      await last.getByTestId("feedback-ack").filter({ hasText: "correction was recorded" }).waitFor();
      expect((await memory.get(adapterTrace))?.feedback).toMatchObject({ rating: -1, correction: "Run: du -sh *" });
      expect(await box.isHidden()).toBe(true);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      runtime.release();
      await server.close();
    }
  });

  it("marks a question failed on an error frame with its id (BUSY) and on a rate limit, and offers to ask again", async () => {
    const runtime = new FakeCouncilRuntime({ memory: new FakeMemoryStore(), hold: true });
    const server = await startTestServer({ runtime });
    try {
      const { page, errors } = await openPage(server);
      const held: Locator[] = [];
      for (let i = 1; i <= 4; i++) held.push(await ask(page, `held question ${i}`));
      // The server reads frames in order: these four are in flight (running or queued) when the fifth arrives.
      const busy = await ask(page, "one question too many");
      await turnState(busy, "failed");
      expect(await busy.getByTestId("turn-state").textContent()).toBe("Failed · BUSY");
      expect(await busy.getByTestId("answer").textContent()).toContain("At most 4 questions");
      expect(await busy.getByTestId("retry").isVisible()).toBe(true);
      await screenshot(page, "busy");
      await releaseUntilDone(runtime, held);
      await busy.getByTestId("retry").click();
      await expect.poll(() => runtime.held).toBe(1);
      runtime.release();
      await turnState(busy, "done");
      expect(await busy.getByTestId("answer").textContent()).toBe("You asked: one question too many");
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      runtime.release();
      await server.close();
    }

    const limited = await startTestServer({ runtime: new FakeCouncilRuntime({ memory: new FakeMemoryStore() }), server: { messagesPerMinute: 2 } });
    try {
      const { page } = await openPage(limited);
      await turnState(await ask(page, "first"), "done");
      await turnState(await ask(page, "second"), "done");
      const third = await ask(page, "third");
      await turnState(third, "failed");
      expect(await third.getByTestId("turn-state").textContent()).toBe("Failed · RATE_LIMITED");
      await page.close();
    } finally {
      await limited.close();
    }
  });

  it("shows a lost connection, fails the question in flight, queues a new one, reconnects by itself, and reconnects at once on Reconnect", async () => {
    const runtime = new FakeCouncilRuntime({ memory: new FakeMemoryStore(), holdAfterDraft: true });
    let server = await startTestServer({ runtime });
    const port = Number(new URL(server.httpUrl).port);
    const restart = () => startTestServer({ runtime: new FakeCouncilRuntime({ memory: new FakeMemoryStore() }), port });
    try {
      const { page, errors } = await openPage(server);
      const first = await ask(page, "first question");
      await expect.poll(() => runtime.held).toBe(1);
      runtime.release();
      await turnState(first, "done");

      // The server goes away with a question in flight (its draft streamed, no final).
      const inFlight = await ask(page, "second question");
      await expect.poll(() => runtime.held).toBe(1);
      await turnState(inFlight, "drafting");
      await server.close();
      await connectionState(page, "closed");
      expect(await page.getByTestId("status").textContent()).toMatch(/^Disconnected\. Retrying in \d+ s$/);
      expect(await page.getByTestId("reconnect").isVisible()).toBe(true);
      await turnState(inFlight, "failed");
      expect(await inFlight.getByTestId("answer").textContent()).toBe("The connection dropped before the answer arrived.");

      // Sending while disconnected: the question waits, visibly, and a notice says so.
      const queued = await ask(page, "third question");
      await turnState(queued, "queued");
      expect(await queued.getByTestId("turn-state").textContent()).toBe("Waiting for the connection…");
      expect(await page.getByTestId("notice").textContent()).toContain("Not connected");
      await screenshot(page, "disconnected");

      // Same port, new server: the page reconnects by itself (backoff) and the waiting question is answered.
      server = await restart();
      await connectionState(page, "open", 20_000);
      await turnState(queued, "done");
      expect(await queued.getByTestId("answer").textContent()).toBe("You asked: third question");
      await inFlight.getByTestId("retry").click();
      await turnState(inFlight, "done");
      expect(await inFlight.getByTestId("answer").textContent()).toBe("You asked: second question");
      await screenshot(page, "reconnected");

      // Reconnect now skips the backoff: wait until the next try is 4+ s away, bring the server back, click.
      await server.close();
      await connectionState(page, "closed");
      await expect.poll(async () => Number(/in (\d+) s/.exec((await page.getByTestId("status").textContent()) ?? "")?.[1] ?? 0), { timeout: 30_000, interval: 100 }).toBeGreaterThanOrEqual(4);
      server = await restart();
      const clicked = Date.now();
      await page.getByTestId("reconnect").click();
      await connectionState(page, "open", 2000);
      expect(Date.now() - clicked).toBeLessThan(2000);
      expect(await page.getByTestId("reconnect").isHidden()).toBe(true);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      runtime.release();
      await server.close();
    }
  });
});
