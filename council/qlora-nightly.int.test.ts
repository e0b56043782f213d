import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics, loadConfig, NATIVE_BUILD_DIR, PROJECT_ROOT, silentLogger, type CouncilConfig } from "../core/index.js";
import { AdapterRegistry } from "../deploy/index.js";
import { loadGraphSpec } from "../graphs/index.js";
import { HashEmbeddings, type AdapterHost } from "../models/index.js";
import { readGguf, sha256File, validateAdapterForBase } from "../models/gguf/index.js";
import { FakeChatModel, FakeKnowledgeBase, FakeMemoryStore } from "../test/fakes/index.js";
import { createTinyModel, TINY_MODEL_SHAPE } from "../test/helpers/tiny-model.js";
import { DATASET_FILES, QloraTrainer, trainingReportSchema, type TrainProgress } from "../training/index.js";
import { createImprovementPorts } from "./improvement-ports.js";

const PYTHON = "/usr/bin/python3";
const QLORA_DIR = join(PROJECT_ROOT, "training", "qlora");
const CONVERTER = join(NATIVE_BUILD_DIR, "llama.cpp", "convert_lora_to_gguf.py");

const CHATML =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const CONVERSATIONS = [
  { messages: [{ role: "user", content: "list all files" }, { role: "assistant", content: "ls -la" }] },
  { messages: [{ role: "user", content: "disk usage" }, { role: "assistant", content: "df -h" }] },
  { messages: [{ role: "user", content: "network interfaces" }, { role: "assistant", content: "ip addr" }] },
  { messages: [{ role: "user", content: "reset the password" }, { role: "assistant", content: "passwd" }] },
];

/** The real QloraTrainer and train_qlora.py, with the CPU stand-in for the CUDA step (see below). */
const standInTrainer = () =>
  QloraTrainer.create({
    python: PYTHON,
    backend: "qlora_cpu_standin",
    batchSize: 2,
    maxLength: 256,
    env: { ...process.env, PYTHONPATH: [join(QLORA_DIR, "testing"), join(QLORA_DIR, "testing", "compat")].join(":"), OMP_NUM_THREADS: "1" },
  });

/** An adapter host the nightly's train and publish steps must not touch (only the gate loads adapters). */
const untouchedHost: AdapterHost = {
  setAdapter: () => Promise.reject(new Error("the train/publish steps loaded an adapter")),
  removeAdapter: () => Promise.reject(new Error("the train/publish steps unloaded an adapter")),
  adapters: () => [],
};

/**
 * What is real and what stands in, on this machine (no GPU; /usr/bin/python3 has torch 1.13 and numpy, but not
 * transformers, peft, bitsandbytes, safetensors or tqdm, and there is no PyPI):
 * - real: COUNCIL_TRAIN_BASE → improvement-ports → QloraTrainer → train_qlora.py (data loading, prompt masking, the
 *   AdamW loop, the progress protocol, the PEFT adapter files) → llama.cpp's convert_lora_to_gguf.py (gguf-py and
 *   conversion/ from native/build/llama.cpp) → the adapter registry;
 * - stand-in: the CUDA step (`--backend qlora_cpu_standin`: a full-precision llama-shaped torch model of the
 *   folder's config.json with PEFT-named LoRA tensors, a byte tokenizer), and for the converter an import stand-in
 *   for `transformers` (unused with `--base <folder>`) and `tqdm`, and float8 dtype names torch 1.13 lacks;
 * - the PEFT weights are adapter_model.bin (torch's format): safetensors is not installed here.
 */
describe("qlora in the nightly loop: real train_qlora.py and real convert_lora_to_gguf.py, CPU torch stand-in for the CUDA step", () => {
  let dir: string;
  let hfFolder: string;
  let served: string;
  let hfConfig: Record<string, unknown>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-qlora-nightly-"));
    served = await createTinyModel({ dir, seed: 21, name: "served.gguf" });
    const vocab = readGguf(served).metadata.get("tokenizer.ggml.tokens");
    // The Hugging Face folder the served GGUF would have been converted from: same shape, same architecture.
    hfFolder = join(dir, "tiny-hf");
    await mkdir(hfFolder);
    const { embedding, layers, heads, feedForward, contextLength } = TINY_MODEL_SHAPE;
    hfConfig = { architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: embedding, intermediate_size: feedForward, num_attention_heads: heads, num_key_value_heads: heads, num_hidden_layers: layers, vocab_size: Array.isArray(vocab) ? vocab.length : 0, max_position_embeddings: contextLength, rms_norm_eps: 1e-5, rope_theta: 10000 };
    await writeFile(join(hfFolder, "config.json"), JSON.stringify(hfConfig));
    await writeFile(join(hfFolder, "tokenizer_config.json"), JSON.stringify({ chat_template: CHATML, bos_token: "<s>", eos_token: "</s>" }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("COUNCIL_TRAIN_BASE (a Hugging Face folder) reaches the QLoRA script, loss falls, and the registry publishes the converted adapter.gguf, which fits the served GGUF", async () => {
    expect(existsSync(PYTHON)).toBe(true);
    expect(existsSync(CONVERTER)).toBe(true);
    const config: CouncilConfig = loadConfig({
      env: { COUNCIL_MODEL: served, COUNCIL_TRAINER: "qlora", COUNCIL_TRAIN_BASE: hfFolder },
      overrides: { dataDir: join(dir, "data"), logLevel: "silent", training: { rank: 4, alpha: 8, epochs: 10, minSteps: 0, learningRate: 1e-2 } },
    });
    const trainer = await standInTrainer();
    const registry = await AdapterRegistry.create({ config, logger: silentLogger });
    const ports = await createImprovementPorts({
      config,
      chatModel: new FakeChatModel(),
      adapterHost: untouchedHost,
      embeddings: new HashEmbeddings({ dimensions: 32 }),
      memory: new FakeMemoryStore(),
      knowledgeBase: new FakeKnowledgeBase([]),
      registry,
      trainer,
      spec: loadGraphSpec(undefined),
      metrics: createMetrics({ defaultMetrics: false }),
      logger: silentLogger,
    });

    const datasetDir = join(dir, "night");
    await mkdir(datasetDir);
    await writeFile(join(datasetDir, DATASET_FILES.sftPromptCompletion), CONVERSATIONS.map((row) => JSON.stringify(row)).join("\n") + "\n");
    const outDir = join(dir, "candidate");
    const epochs: TrainProgress[] = [];
    const trained = await ports.train({ dataset: { dir: datasetDir, sha256: "0".repeat(64), examples: CONVERSATIONS.length }, outDir, onProgress: (progress) => progress.kind === "epoch" && epochs.push(progress) });

    console.log(`[qlora int] loss by epoch ${epochs.map((epoch) => epoch.loss.toFixed(3)).join(" → ")}`);
    expect(epochs).toHaveLength(10);
    expect(trained.finalLoss).toBe(epochs.at(-1)!.loss);
    expect(epochs.at(-1)!.loss).toBeLessThan(epochs[0]!.loss * 0.8);
    const report = trainingReportSchema.parse(JSON.parse(await readFile(join(outDir, "training.json"), "utf8")));
    expect(report.trainer).toBe("qlora");
    expect(report.base).toMatchObject({ path: hfFolder, name: "llama" });
    expect(report.hyperparameters.extra).toMatchObject({ quantization: "nf4", datasetFormat: "conversational", chatTemplate: "base-model", maskPrompt: true });

    // adapter.gguf is convert_lora_to_gguf.py's output: a GGUF LoRA adapter for the GGUF served from that folder
    const adapter = join(outDir, "adapter.gguf");
    const meta = readGguf(adapter).metadata;
    expect(meta.get("general.type")).toBe("adapter");
    expect(meta.get("adapter.lora.alpha")).toBe(8);
    const summary = await validateAdapterForBase({ adapter, base: served });
    expect(summary.rank).toBe(4);
    // the default targets: every projection of every layer and the output head (PEFT's lm_head)
    expect(summary.targets).toContain("blk.1.ffn_down.weight");
    expect(summary.targets).toContain("output.weight");
    expect(summary.targets).toHaveLength(TINY_MODEL_SHAPE.layers * 7 + 1);
    const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
    try {
      const model = await llama.loadModel({ modelPath: served });
      const context = await model.createContext({ contextSize: 128, threads: 1, lora: { adapters: [{ filePath: adapter }] } });
      await context.dispose();
      await model.dispose();
    } finally {
      await llama.dispose();
    }

    const { version } = await ports.publish({ adapterDir: outDir, gate: { passed: true, reasons: [], suites: [], probes: [{ prompt: "list all files", output: "ls -la" }] } });
    const published = await registry.get(version);
    expect(await sha256File(published.adapterPath)).toBe(await sha256File(adapter));
    expect((await sha256File(adapter)).startsWith(version)).toBe(true);
  }, 300_000);

  it("a model whose output head is tied to the embeddings (tie_word_embeddings, as Qwen2.5-0.5B) trains without lm_head and training.json says so", async () => {
    const tied = join(dir, "tied-hf");
    await mkdir(tied);
    await writeFile(join(tied, "config.json"), JSON.stringify({ ...hfConfig, tie_word_embeddings: true }));
    const data = join(dir, "tied.jsonl");
    await writeFile(data, CONVERSATIONS.map((row) => JSON.stringify(row)).join("\n") + "\n");
    const trainer = await standInTrainer();
    const result = await trainer.train({ dataset: data, base: tied, out: join(dir, "tied-out"), rank: 4, alpha: 8, epochs: 1, learningRate: 1e-2, targets: ["attn_q", "output.weight"] });
    expect(result.report.hyperparameters.extra.skippedTargets).toEqual(["lm_head"]);
    const summary = await validateAdapterForBase({ adapter: result.adapterPath, base: served });
    expect(summary.targets).toEqual(["blk.0.attn_q.weight", "blk.1.attn_q.weight"]);
  }, 120_000);
});
