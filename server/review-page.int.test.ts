import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics, loadConfig, Registry, silentLogger } from "../core/index.js";
import { ReviewQueue, reviewQueuePath } from "../graphs/improve/index.js";
import { FakeMemoryStore } from "../test/fakes/index.js";
import { FakeCouncilRuntime } from "../test/fakes/fake-runtime.js";
import { launchChromium, screenshot, type TestBrowser } from "../test/helpers/chromium.js";
import { buildApp } from "./build-app.js";

const ADMIN = "review-page-token";
let browser: TestBrowser;
let app: FastifyInstance;
let dir: string;
let queue: ReviewQueue;
let url: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "review-page-"));
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: "silent", server: { host: "127.0.0.1", port: 0, adminToken: ADMIN } } });
  queue = new ReviewQueue({ path: reviewQueuePath(config) });
  const entries = ["tar", "mount"].map((name) => ({
    item: { id: `q-${name}`, question: `How do I ${name}?`, failedAnswer: `<b>no</b> ${name}`, traceIds: [], userId: "u", createdAt: 1, category: null },
    candidates: [{ id: `q-${name}-llm`, itemId: `q-${name}`, text: `Try ${name} --help.`, source: "llm" as const }, { id: `q-${name}-kb`, itemId: `q-${name}`, text: `Use ${name}.`, source: "knowledge-base" as const }],
    decision: { itemId: `q-${name}`, accepted: false, winnerId: `q-${name}-kb`, winnerScore: 0.6, ballots: [{ candidateId: `q-${name}-kb`, voter: "grounding", score: 0.6, reason: "in the knowledge base" }], reason: "below the accept bar" },
  }));
  await queue.enqueue({ runId: "run-1", entries });
  app = await buildApp({ config, runtime: new FakeCouncilRuntime({ memory: new FakeMemoryStore() }), metrics: createMetrics({ registry: new Registry(), defaultMetrics: false }), logger: silentLogger });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/review`;
  browser = await launchChromium({ viewport: { width: 900, height: 700 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("review queue admin page (real Chromium)", () => {
  it("loads the pending items with the admin token, and accepts an edited candidate and rejects the other", async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(url);
    await page.getByTestId("token").fill("wrong-token");
    await page.getByTestId("load").click();
    await expect.poll(() => page.getByTestId("status").textContent()).toContain("UNAUTHORIZED");

    await page.getByTestId("token").fill(ADMIN);
    await page.getByTestId("load").click();
    await page.locator('[data-testid="items"][data-count="2"]').waitFor({ timeout: 5000 });
    const first = page.getByTestId("item").first();
    expect(await first.locator("h2").textContent()).toBe("How do I tar?");
    // user text is shown as text, never as markup
    expect(await first.locator(".failed").textContent()).toBe("<b>no</b> tar");
    expect(await first.getByTestId("candidate").first().textContent()).toContain("[1] knowledge-base (council's best)");
    expect(await first.textContent()).toContain("grounding 0.60: in the knowledge base");
    await screenshot(page, "review-queue");

    await first.getByTestId("edit-text-2").fill("tar --help | less");
    await first.getByTestId("accept-edited-2").click();
    await page.locator('[data-testid="items"][data-count="1"]').waitFor({ timeout: 5000 });
    await page.getByTestId("item").first().getByTestId("reject").click();
    await page.locator('[data-testid="items"][data-count="0"]').waitFor({ timeout: 5000 });
    expect(await page.getByTestId("status").textContent()).toContain("How do I mount?: rejected");

    const items = await queue.items();
    expect(items.map((item) => item.status)).toEqual(["accepted", "rejected"]);
    expect(items[0]!.decision).toMatchObject({ actor: "admin", choice: "accept", candidateId: "q-tar-llm", editedText: "tar --help | less" });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
