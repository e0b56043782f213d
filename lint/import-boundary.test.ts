import { ESLint } from "eslint";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkImport } from "./import-boundary.js";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("import boundary (npm run lint)", () => {
  it("lets a folder import a lower folder through its index, and its own files freely", () => {
    expect(checkImport({ from: "agents/critic.ts", specifier: "../memory/index.js" })).toBeUndefined();
    expect(checkImport({ from: "graphs/improve/harvest.ts", specifier: "../../training/datasets/index.js" })).toBeUndefined();
    expect(checkImport({ from: "memory/faiss-memory.ts", specifier: "./faiss-index.js" })).toBeUndefined();
    expect(checkImport({ from: "memory/faiss-memory.ts", specifier: "../models/index.js" })).toBeUndefined();
    expect(checkImport({ from: "scripts/commands/serve.ts", specifier: "../../server/index.js" })).toBeUndefined();
    expect(checkImport({ from: "memory/faiss-memory.ts", specifier: "faiss-node" })).toBeUndefined();
  });

  it("refuses a file behind another folder's index, an upward import, and test support in shipped code", () => {
    expect(checkImport({ from: "agents/critic.ts", specifier: "../memory/types.js" })).toMatchObject({ messageId: "index" });
    expect(checkImport({ from: "server/services.ts", specifier: "../council/types.js" })).toMatchObject({ messageId: "index" });
    expect(checkImport({ from: "memory/faiss-memory.ts", specifier: "../agents/index.js" })).toEqual({ messageId: "direction", data: { from: "memory", to: "agents" } });
    expect(checkImport({ from: "core/config.ts", specifier: "../models/index.js" })).toMatchObject({ messageId: "direction" });
    expect(checkImport({ from: "council/open-parts.ts", specifier: "../server/index.js" })).toMatchObject({ messageId: "direction" });
    expect(checkImport({ from: "council/open-parts.ts", specifier: "../test/fakes/index.js" })).toMatchObject({ messageId: "testSupport" });
    // Tests, fakes and benches may reach test support; tests may import what they test directly.
    expect(checkImport({ from: "bench/vote-quality.ts", specifier: "../test/fakes/index.js" })).toBeUndefined();
    expect(checkImport({ from: "server/http-routes.test.ts", specifier: "../council/types.js" })).toBeUndefined();
  });

  it("is on in the project's eslint config, for imports, re-exports and dynamic imports", async () => {
    const eslint = new ESLint({ cwd: root });
    const code = [
      'import type { MemoryHit } from "../memory/types.js";',
      'export { renderPrompt } from "../models/prompt-template.js";',
      'export const load = () => import("../graphs/index.js");',
      "export type Hit = MemoryHit;",
    ].join("\n");
    const [result] = await eslint.lintText(code, { filePath: `${root}agents/example.ts` });
    const problems = result!.messages.filter((message) => message.ruleId === "council/import-boundary").map((message) => message.line);
    expect(problems).toEqual([1, 2, 3]);
  });
});
