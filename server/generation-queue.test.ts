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
});
