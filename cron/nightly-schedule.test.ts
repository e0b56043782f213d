import { afterEach, describe, expect, it, vi } from "vitest";
import { CouncilError } from "../core/index.js";
import { createNightlySchedule } from "./nightly-schedule.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("createNightlySchedule", () => {
  it("fires at 02:00 local time and reports the next run", async () => {
    vi.useFakeTimers({ now: new Date(2026, 10, 22, 1, 59, 58) });
    const run = vi.fn(async () => "ok");
    const nightly = createNightlySchedule({ cron: "0 2 * * *", run });
    expect(nightly.nextRun()?.getTime()).toBe(new Date(2026, 10, 22, 2, 0, 0).getTime());
    await vi.advanceTimersByTimeAsync(1000);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2000);
    expect(run).toHaveBeenCalledTimes(1);
    expect(nightly.nextRun()?.getTime()).toBe(new Date(2026, 10, 23, 2, 0, 0).getTime());
    await nightly.dispose();
    expect(nightly.nextRun()).toBeNull();
    await vi.advanceTimersByTimeAsync(86_400_000);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it("skips a firing while the previous run is still going, and survives failures", async () => {
    vi.useFakeTimers({ now: new Date(2026, 10, 22, 0, 0, 30) });
    let finish: () => void = () => undefined;
    const run = vi
      .fn<() => Promise<unknown>>()
      .mockImplementationOnce(() => new Promise<void>((resolve) => (finish = resolve)))
      .mockImplementationOnce(() => Promise.reject(new CouncilError("RUN_LOCKED", "locked")))
      .mockImplementation(async () => "ok");
    const nightly = createNightlySchedule({ cron: "* * * * *", run });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(nightly.running()).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(run).toHaveBeenCalledTimes(1);
    finish();
    await vi.advanceTimersByTimeAsync(60_000);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(run).toHaveBeenCalledTimes(3);
    await nightly.dispose();
  });

  it("rejects an invalid cron expression with CONFIG_INVALID naming the key", () => {
    expect(() => createNightlySchedule({ cron: "not a cron", run: async () => undefined })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("COUNCIL_IMPROVE_SCHEDULE") }));
  });
});
