import { describe, expect, it } from "vitest";
import { loadConfig, silentLogger } from "../core/index.js";
import { nightlyLockPath } from "./lock-path.js";
import { openRunLocker, runLockers } from "./run-lockers.js";

describe("run lockers", () => {
  it("the file lock by default; the Postgres advisory lock when COUNCIL_STORE=postgres", () => {
    const config = loadConfig({ env: {}, overrides: { dataDir: "/tmp/council-x" } });
    expect(openRunLocker({ config, logger: silentLogger }).where).toBe(nightlyLockPath(config));
    const shared = loadConfig({ env: { COUNCIL_STORE: "postgres", COUNCIL_DATABASE_URL: "postgres://council@db:5432/council" } });
    expect(openRunLocker({ config: shared, logger: silentLogger }).where).toBe("Postgres advisory lock");
    expect(runLockers.get("postgres").capabilities).toEqual({ sharedAcrossReplicas: true });
    expect(runLockers.get("file").capabilities).toEqual({ sharedAcrossReplicas: false });
  });

  it("COUNCIL_STORE=postgres without COUNCIL_DATABASE_URL is CONFIG_INVALID naming the variable", () => {
    const config = loadConfig({ env: { COUNCIL_STORE: "postgres" } });
    expect(() => openRunLocker({ config, logger: silentLogger })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("COUNCIL_DATABASE_URL") }));
  });
});
