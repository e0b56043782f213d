import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NATIVE_BUILD_DIR } from "../../core/index.js";
import { LlamaChatModel } from "../../models/index.js";
import { TINY_QWEN2_SHAPE, writeRandomQwen2Model } from "./random-model.js";
import { llamaCompletionRun } from "./real-size-processes.js";
import { runRealSizeBench, type RealSizeReport } from "./real-size.js";

/**
 * The random qwen2 Q8_0 model (small dims, same writer and layout as the 0.5 B-shaped one) on the real runtimes:
 * node-llama-cpp loads it and generates a fixed token count, llama.cpp's `llama-completion` does too, and the
 * real-size bench drives `council serve` over its WebSocket and `llama-server` side by side on it.
 */
describe("random qwen2 Q8_0 model on the real runtimes", () => {
  let dir: string;
  let model: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-random-model-int-"));
    model = (await writeRandomQwen2Model({ path: join(dir, "tiny-qwen2-q8_0.gguf"), shape: TINY_QWEN2_SHAPE })).path;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("loads in node-llama-cpp and generates exactly the token cap with EOS ignored", async () => {
    const chat = await LlamaChatModel.create({ modelPath: model, threads: 1, contextSize: 512, parallel: 1 });
    try {
      let text = "";
      let outputTokens = 0;
      for await (const chunk of await chat.stream([new HumanMessage("How do I list files?")], { maxTokens: 12, ignoreEos: true, temperature: 0 })) {
        if (chunk.usage_metadata) outputTokens = chunk.usage_metadata.output_tokens;
        text += chunk.content as string;
      }
      expect(outputTokens).toBe(12);
      expect(text.length).toBeGreaterThan(0);
    } finally {
      await chat.dispose();
    }
  });

  it("loads in llama.cpp's llama-completion and generates exactly the token cap", async () => {
    const run = await llamaCompletionRun({ binary: join(NATIVE_BUILD_DIR, "bin", "llama-completion"), model, prompt: "How do I list files?", tokens: 8, threads: 1, contextSize: 512 });
    expect(run.tokens).toBe(8);
    expect(run.decodeTokensPerSecond).toBeGreaterThan(0);
  });

  it("the real-size bench measures council serve over WebSockets against llama-completion and llama-server", async () => {
    const out = join(dir, "results");
    const { report, file } = await runRealSizeBench({ model, sections: ["stream", "parallel"], tokens: 16, repeats: 1, users: 2, answersPerUser: 1, outDir: out, log: () => undefined });
    const written = JSON.parse(await readFile(file, "utf8")) as RealSizeReport;
    expect(written.summary).toEqual(report.summary);
    expect(written.model).toMatchObject({ architecture: "qwen2", tensorTypes: { Q8_0: 15, F32: 11 } });
    expect(written.machine.uptimeBefore).toMatch(/load average/);
    const bySection = Object.fromEntries(written.sections.map((s) => [s.section, s]));
    for (const section of ["stream", "parallel"]) {
      expect(bySection[section]?.error, section).toBeUndefined();
      expect(bySection[section]!.checks[0]!.measured).toBeGreaterThan(0);
    }
    const stream = bySection.stream!.details as { websocket: { runs: Array<{ generatedTokens: number }> }; llamaCompletion: { runs: Array<{ tokens: number }> } };
    expect(stream.llamaCompletion.runs[0]!.tokens).toBe(16);
    expect(stream.websocket.runs[0]!.generatedTokens).toBeGreaterThan(1);
    const parallel = bySection.parallel!.details as { llamaServer: { tokensPerAnswer: number[] }; council: { generatedTokens: number } };
    expect(parallel.llamaServer.tokensPerAnswer).toEqual([16, 16]);
    expect(parallel.council.generatedTokens).toBeGreaterThan(2);
  }, 600_000);
});
