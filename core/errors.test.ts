import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CouncilError, ERROR_CODES, isCouncilError } from "./errors.js";

describe("CouncilError", () => {
  it("documents every code in docs/errors.md", () => {
    const docs = readFileSync(new URL("../docs/errors.md", import.meta.url), "utf8");
    const undocumented = Object.keys(ERROR_CODES).filter((code) => !docs.includes(`\`${code}\``));
    expect(undocumented).toEqual([]);
  });

  it("carries code, cause and details, and serialises without the stack", () => {
    const cause = new Error("disk");
    const error = new CouncilError("DISK_FULL", "No room for the adapter", { cause, details: { path: "/x" } });
    expect(isCouncilError(error, "DISK_FULL")).toBe(true);
    expect(isCouncilError(error, "INTERNAL")).toBe(false);
    expect(error.cause).toBe(cause);
    expect(error.toJSON()).toEqual({ code: "DISK_FULL", message: "No room for the adapter", details: { path: "/x" } });
  });
});
