import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dataPaths, loadConfig, PROJECT_ROOT } from "../core/index.js";
import { EventLog, FaissMemory, memoryPaths } from "../memory/index.js";
import { createTinyModel } from "../test/helpers/tiny-model.js";
import { createCouncilFromConfig } from "./create-council-from-config.js";

const root = mkdtempSync(join(tmpdir(), "council-from-config-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("createCouncilFromConfig (real GGUF, faiss-node memory, markdown knowledge base)", () => {
  it("builds every part from config, answers, and keeps the turn after a restart", async () => {
    const path = await createTinyModel({ dir: root });
    const config = loadConfig({ env: {}, overrides: { dataDir: root, model: { path, maxTokens: 24, parallel: 1, threads: 1, contextSize: 1024 }, kb: { dir: join(PROJECT_ROOT, "kb") }, agents: { router: "heuristic", critic: "heuristic", maxRevisions: 0 } } });
    const council = await createCouncilFromConfig(config);
    let traceId: string;
    try {
      expect(council.ready()).toBe(true);
      const result = await council.turn({ id: "1", sessionId: "s", text: "How do I extract a tar.gz archive?" });
      traceId = result.traceId;
      expect(result).toMatchObject({ route: "files", adapter: null });
      expect((await council.trace(traceId))?.model).toBe("tiny-model.gguf");
      await council.feedback({ traceId, rating: -1 });
      // Both were in the event log before they returned.
      const events = await (await EventLog.create({ dir: dataPaths(config).events })).events();
      expect(events.map((event) => [event.type, event.actor, event.payload.traceId])).toEqual([
        ["turn-recorded", "anonymous", traceId],
        ["feedback-given", "anonymous", traceId],
      ]);
      expect(events[0]!.payload).toMatchObject({ question: "How do I extract a tar.gz archive?", model: "tiny-model.gguf" });
    } finally {
      await council.dispose();
    }
    expect(council.ready()).toBe(false);
    const memory = await FaissMemory.create({ dir: memoryPaths(config).dir });
    try {
      expect((await memory.get(traceId))?.feedback?.rating).toBe(-1);
    } finally {
      await memory.dispose();
    }
  });
});
