import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../core/index.js";
import { FakeMemoryStore } from "../../test/fakes/index.js";
import { FakeCouncilRuntime } from "../../test/fakes/fake-runtime.js";
import { startTestServer, type TestServer } from "../../test/helpers/chat-server.js";

const run = promisify(execFile);
const CLI = ["--import", "tsx", join(PROJECT_ROOT, "scripts", "cli.ts")];

describe("npx council ask (real process, real socket)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ runtime: new FakeCouncilRuntime({ memory: new FakeMemoryStore() }), server: { chatTokens: ["cli-chat-token-0001"] } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("--json prints the final frame; plain mode streams the answer to stdout", async () => {
    const json = await run(process.execPath, [...CLI, "ask", "--url", server.wsUrl, "--token", "cli-chat-token-0001", "--json", "how do I list files"], { cwd: PROJECT_ROOT });
    expect(JSON.parse(json.stdout)).toMatchObject({ type: "final", answer: "You asked: how do I list files", success: true, trace_id: expect.any(String) });
    const plain = await run(process.execPath, [...CLI, "ask", "--url", server.wsUrl, "--token", "cli-chat-token-0001", "where are the logs"], { cwd: PROJECT_ROOT });
    expect(plain.stdout).toBe("You asked: where are the logs\n");
    expect(plain.stderr).toMatch(/^model · adapter base model · trace \S+ · score 0\.90 · success · route general$/m);
  });

  it("exits 1 with UNAUTHORIZED on a wrong token", async () => {
    const failure = await run(process.execPath, [...CLI, "ask", "--url", server.wsUrl, "--token", "wrong", "q"], { cwd: PROJECT_ROOT }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain("UNAUTHORIZED");
  });
});
