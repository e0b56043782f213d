import { describe, expect, it } from "vitest";
import { formatDuration, formatProgress } from "./train.js";

describe("council train progress line", () => {
  it("shows the bar, epoch, step, loss, speed and ETA", () => {
    const line = formatProgress({ kind: "step", epoch: 2, epochs: 4, step: 30, steps: 60, loss: 1.23456, tokensPerSecond: 812.4, etaSeconds: 95 }, 10);
    expect(line).toBe("[#####-----]  50%  epoch 2/4  step 30/60  loss 1.2346  812 tok/s  ETA 1m35s");
  });

  it("prints n/a for a missing loss and -- before the ETA is known", () => {
    expect(formatProgress({ kind: "step", epoch: 1, epochs: 1, step: 1, steps: 4, loss: Number.NaN, tokensPerSecond: 0, etaSeconds: undefined }, 4)).toContain("loss n/a  0 tok/s  ETA --");
  });

  it("formats durations in s, m and h", () => {
    expect(formatDuration(7)).toBe("7s");
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe("3h05m");
  });
});
