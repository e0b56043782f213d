import { describe, expect, it } from "vitest";
import { RunawayGuard } from "./answerer.js";

describe("RunawayGuard", () => {
  it("trips on the same line a second time and cuts before it", () => {
    const guard = new RunawayGuard();
    expect(guard.check("- `sudo the when.\n")).toBe(false);
    expect(guard.check("- `sudo the when.\n- `sudo the when.\n")).toBe(true);
    expect(guard.cut("- `sudo the when.\n- `sudo the when.\n")).toBe("- `sudo the when.");
  });

  it("trips on a phrase repeated three times within a line", () => {
    const guard = new RunawayGuard();
    const text = "use the tar command use the tar command use the tar command now";
    expect(guard.check(text)).toBe(true);
    expect(guard.cut(text)).toBe("use the tar command");
  });

  it("lets a normal answer with code fences and repeated short lines through", () => {
    const guard = new RunawayGuard();
    expect(guard.check("Run:\n```\ntar xzf a.tar.gz\n```\nthen:\n```\nls\n```\n")).toBe(false);
    expect(guard.tripped).toBe(false);
  });
});
