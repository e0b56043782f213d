import { describe, expect, it } from "vitest";
import { GenerationQueue } from "./generation-queue.js";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("GenerationQueue", () => {
  it("runs at most `concurrency` tasks, queues up to maxWaiting, answers BUSY beyond, and reports depth", async () => {
    const depths: number[] = [];
    const queue = new GenerationQueue({ concurrency: 2, maxWaiting: 1, onDepth: (depth) => depths.push(depth) });
    const gates = [deferred(), deferred(), deferred()];
    let running = 0;
    let maxRunning = 0;
    const task = (index: number) => async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await gates[index]!.promise;
      running -= 1;
      return index;
    };
    const first = queue.submit(task(0));
    const second = queue.submit(task(1));
    const third = queue.submit(task(2));
    await expect(queue.submit(task(0))).rejects.toMatchObject({ code: "BUSY" });
    expect(queue.depth).toBe(3);
    gates.forEach((gate) => gate.resolve());
    expect(await Promise.all([first, second, third])).toEqual([0, 1, 2]);
    expect(maxRunning).toBe(2);
    expect(queue.depth).toBe(0);
    expect(depths.at(-1)).toBe(0);
    expect(Math.max(...depths)).toBe(3);
  });

  it("removes a waiting task whose signal aborts, and close() cancels the rest", async () => {
    const queue = new GenerationQueue({ concurrency: 1, maxWaiting: 5 });
    const gate = deferred();
    const running = queue.submit(() => gate.promise);
    const controller = new AbortController();
    const aborted = queue.submit(async () => "never", { signal: controller.signal });
    const waiting = queue.submit(async () => "never");
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: "CANCELLED" });
    expect(queue.depth).toBe(2);
    const closing = queue.close();
    await expect(waiting).rejects.toMatchObject({ code: "CANCELLED" });
    gate.resolve();
    await closing;
    await running;
    await expect(queue.submit(async () => 1)).rejects.toMatchObject({ code: "CANCELLED" });
  });

  it("a failing task frees its slot and the next one runs", async () => {
    const queue = new GenerationQueue({ concurrency: 1, maxWaiting: 1 });
    const failing = queue.submit(async () => {
      throw new Error("boom");
    });
    const next = queue.submit(async () => "ok");
    await expect(failing).rejects.toThrow("boom");
    await expect(next).resolves.toBe("ok");
  });
  it("answers BUSY with retryAfterSeconds once the expected wait (waiting ÷ concurrency × average run time) passes maxWaitMs", async () => {
    let clock = 0;
    const queue = new GenerationQueue({ concurrency: 2, maxWaiting: 100, maxWaitMs: 8_000, now: () => clock });
    // A slot is free: no wait.
    expect(queue.expectedWaitMs).toBe(0);
    const warm = deferred();
    const warming = queue.submit(() => warm.promise);
    clock = 4_000; // one turn ran 4 s
    warm.resolve();
    await warming;
    const gates = Array.from({ length: 6 }, () => deferred());
    const admitted = gates.map((gate) => queue.submit(() => gate.promise));
    // 2 running, 4 waiting: a 7th turn would wait ceil(5 / 2) × 4 s = 12 s > 8 s; one more start (2 s at 2 per 4 s) admits it.
    expect(queue.expectedWaitMs).toBe(12_000);
    const refused = await queue.submit(async () => "never").catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: "BUSY", details: { retryAfterSeconds: 2 } });
    expect(String((refused as Error).message)).toMatch(/about 12 s .*retry in 2 s/);
    expect(queue.depth).toBe(6);
    gates.forEach((gate) => gate.resolve());
    await Promise.all(admitted);
    // Drained: admitted again.
    await expect(queue.submit(async () => "ok")).resolves.toBe("ok");
  });

  it("without maxWaitMs a long queue is still admitted up to maxWaiting (the old bound)", async () => {
    let clock = 0;
    const queue = new GenerationQueue({ concurrency: 1, maxWaiting: 3, now: () => clock });
    const warm = deferred();
    const warming = queue.submit(() => warm.promise);
    clock = 60_000;
    warm.resolve();
    await warming;
    const gates = Array.from({ length: 4 }, () => deferred());
    const admitted = gates.map((gate) => queue.submit(() => gate.promise));
    await expect(queue.submit(async () => 1)).rejects.toMatchObject({ code: "BUSY", details: { retryAfterSeconds: expect.any(Number) } });
    gates.forEach((gate) => gate.resolve());
    await Promise.all(admitted);
  });
  it("before any turn has finished, admits one round of waiting turns (as many as run at once), then BUSY", async () => {
    const queue = new GenerationQueue({ concurrency: 2, maxWaiting: 64, maxWaitMs: 60_000, now: () => 0 });
    const gates = Array.from({ length: 4 }, () => deferred());
    const admitted = gates.map((gate) => queue.submit(() => gate.promise));
    expect(queue.expectedWaitMs).toBe(Number.POSITIVE_INFINITY);
    await expect(queue.submit(async () => 1)).rejects.toMatchObject({ code: "BUSY", message: expect.stringMatching(/first answers are still being generated/) });
    gates.forEach((gate) => gate.resolve());
    await Promise.all(admitted);
  });

  it("a running turn older than the average counts as the turn time (turns slowing down)", async () => {
    let clock = 0;
    const queue = new GenerationQueue({ concurrency: 1, maxWaiting: 64, maxWaitMs: 10_000, now: () => clock });
    const warm = deferred();
    const warming = queue.submit(() => warm.promise);
    clock = 1_000;
    warm.resolve();
    await warming; // average 1 s
    const slow = deferred();
    const running = queue.submit(() => slow.promise);
    const waiting = queue.submit(async () => "next");
    expect(queue.expectedWaitMs).toBe(2 * 1_000);
    clock += 12_000; // the running turn is 12 s old now
    expect(queue.expectedWaitMs).toBe(2 * 12_000);
    await expect(queue.submit(async () => 1)).rejects.toMatchObject({ code: "BUSY" });
    slow.resolve();
    await running;
    await waiting;
  });
});
