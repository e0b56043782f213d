#!/usr/bin/env node
// A stand-in trainer process for contract tests: speaks the JSON-lines protocol of training/trainer-events.ts
// with the command line of either native/lora-train (--model) or training/qlora/train_qlora.py (--base).
// Its behaviour comes from fake-trainer.config.json beside this file (tests copy both into a temp folder):
//   { "adapter": "<GGUF to copy to --out>", "stepMs": 0, "maxPromptChars": 4000, "failWith": null | "crash" | "<code>" }
import { copyFileSync, readFileSync } from "node:fs";

const config = JSON.parse(readFileSync(new URL("./fake-trainer.config.json", import.meta.url), "utf8"));
const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : fallback;
};
const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const out = arg("--out");
const data = arg("--data");
const epochs = Number(arg("--epochs", "1"));
const lines = readFileSync(data, "utf8").split("\n").filter((line) => line !== "");
for (const [index, line] of lines.entries()) {
  const row = JSON.parse(line);
  if (row.prompt.length + row.completion.length > (config.maxPromptChars ?? 4000)) {
    emit({ event: "error", code: "DATASET_INVALID", message: `${data}:${index + 1}: example is longer than the context` });
    process.exit(3);
  }
}
if (config.failWith === "crash") {
  process.stderr.write("fake trainer: segmentation fault\n");
  process.exit(139);
}
if (config.failWith) {
  emit({ event: "error", code: config.failWith, message: `fake trainer fails with ${config.failWith}` });
  process.exit(1);
}
const steps = lines.length * epochs;
emit({ event: "start", examples: lines.length, steps, epochs, trainableParams: 1000, ctx: 64 });
let step = 0;
let loss = 3;
const started = Date.now();
for (let epoch = 1; epoch <= epochs; epoch++) {
  for (let i = 0; i < lines.length; i++) {
    await sleep(config.stepMs ?? 0);
    step += 1;
    loss *= 0.97;
    emit({ event: "step", epoch, step, steps, loss, tokensPerSecond: 1000 });
  }
  emit({ event: "epoch", epoch, epochs, loss, seconds: 0.01, tokensPerSecond: 1000 });
}
copyFileSync(config.adapter, out);
emit({ event: "done", adapter: out, trainSeconds: (Date.now() - started) / 1000, tokensPerSecond: 1000, peakRssBytes: process.memoryUsage().rss, trainableParams: 1000 });
