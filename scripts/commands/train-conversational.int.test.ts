import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaCppLoraTrainer, trainingReportSchema } from "../../training/index.js";
import { runCli } from "../../test/helpers/run-cli.js";
import { createTinyModel } from "../../test/helpers/tiny-model.js";

const CHATML =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const CONVERSATIONS = [
  { messages: [{ role: "system", content: "Answer with one command." }, { role: "user", content: "list files" }, { role: "assistant", content: "ls -la" }] },
  { messages: [{ role: "user", content: "disk usage" }, { role: "assistant", content: "df -h" }] },
  { messages: [{ role: "user", content: "reset the password" }, { role: "assistant", content: "passwd" }, { role: "user", content: "of user bob" }, { role: "assistant", content: "passwd bob" }] },
  { prompt: [{ role: "user", content: "network interfaces" }], completion: [{ role: "assistant", content: "ip addr" }] },
];

/** The real `council train` process and native trainer on a TRL conversational JSONL. */
describe("council train --data messages.jsonl (real CLI, native trainer, tiny model)", () => {
  let dir: string;
  let data: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-train-conv-"));
    data = join(dir, "messages.jsonl");
    await writeFile(data, CONVERSATIONS.map((row) => JSON.stringify(row)).join("\n") + "\n");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const train = async (base: string, out: string) => {
    const result = await runCli(["train", "--data", data, "--base", base, "--out", out, "--epochs", "2", "--threads", "1", "--json"], { COUNCIL_DATA_DIR: dir, COUNCIL_LOG_LEVEL: "error", OMP_NUM_THREADS: "1" });
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(out, "adapter.gguf"))).toBe(true);
    expect(existsSync(join(out, "dataset.rendered.jsonl"))).toBe(false);
    return trainingReportSchema.parse(JSON.parse(await readFile(join(out, "training.json"), "utf8")));
  };

  it("trains an adapter for 2 epochs, rendering with the base GGUF's chat template, or with the seedling's when it has none", async () => {
    const chatml = await createTinyModel({ dir, seed: 3, name: "chatml.gguf", extraKv: [{ key: "tokenizer.chat_template", type: "string", value: CHATML }] });
    const plain = await createTinyModel({ dir, seed: 3, name: "plain.gguf" });
    const withTemplate = await train(chatml, join(dir, "out-chatml"));
    const seedling = await train(plain, join(dir, "out-plain"));

    for (const report of [withTemplate, seedling]) {
      expect(report.lossCurve).toHaveLength(2);
      expect(report.dataset).toMatchObject({ file: data, examples: 4 });
      expect(report.hyperparameters.extra).toMatchObject({ datasetFormat: "conversational", maskPrompt: true });
    }
    expect(withTemplate.hyperparameters.extra.chatTemplate).toBe("base-model");
    expect(seedling.hyperparameters.extra.chatTemplate).toBe("seedling");
    // Loss on the answers only: the same four answers, each closed by the template's own end of turn
    // ("<|im_end|>\n", 11 tokens in the tiny vocabulary) rather than the seedling's "\n###" (4 tokens).
    const trained = (report: typeof seedling) => Number(report.hyperparameters.extra.trainedTokens);
    expect(trained(withTemplate) - trained(seedling)).toBe(4 * 7);
  }, 240_000);

  it("a conversation too long for the context fails with DATASET_INVALID naming the user's file and line, not the rendered copy", async () => {
    const base = await createTinyModel({ dir, seed: 4, name: "plain-long.gguf" });
    const long = join(dir, "long.jsonl");
    const rows = [...CONVERSATIONS.slice(0, 2), { messages: [{ role: "user", content: "write a lot" }, { role: "assistant", content: "word ".repeat(400) }] }];
    await writeFile(long, rows.map((row) => JSON.stringify(row)).join("\n") + "\n");
    const trainer = await LlamaCppLoraTrainer.create({ threads: 1 });
    const error = await trainer.train({ dataset: long, base, out: join(dir, "out-long"), epochs: 1 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "DATASET_INVALID", details: { path: long } });
    expect((error as Error).message).toContain(`${long}:3: `);
    expect((error as Error).message).not.toContain("dataset.rendered.jsonl");
    expect(existsSync(join(dir, "out-long"))).toBe(false);
  }, 120_000);

  it("on a messages JSONL rendered with the base's own chat template, the native trainer's loss falls", async () => {
    const base = await createTinyModel({ dir, seed: 5, name: "chatml-loss.gguf", extraKv: [{ key: "tokenizer.chat_template", type: "string", value: CHATML }] });
    const trainer = await LlamaCppLoraTrainer.create({ threads: 1 });
    const result = await trainer.train({ dataset: data, base, out: join(dir, "out-loss"), epochs: 8, learningRate: 1e-3 });
    const curve = result.report.lossCurve.map((point) => point.loss);
    console.log(`[train messages] loss by epoch ${curve.map((loss) => loss.toFixed(3)).join(" → ")}`);
    expect(result.report.hyperparameters.extra).toMatchObject({ datasetFormat: "conversational", chatTemplate: "base-model" });
    expect(curve).toHaveLength(8);
    expect(curve.at(-1)!).toBeLessThan(curve[0]! * 0.8);
  }, 240_000);
});
