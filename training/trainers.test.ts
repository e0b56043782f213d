import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BackendRegistry, defineBackend, isCouncilError, loadConfig } from "../core/index.js";
import { createTrainer } from "./create-trainer.js";
import { QloraTrainer } from "./qlora-trainer.js";
import { llamacppLoraTrainerBackend, qloraTrainerBackend, trainers, type TrainerBackend, type TrainerContext } from "./trainers.js";
import type { Trainer } from "./types.js";

describe("trainer registry", () => {
  it("registers llamacpp-lora (the default) and qlora with typed capabilities", () => {
    expect(trainers.names()).toEqual(["llamacpp-lora", "qlora"]);
    expect(trainers.get(loadConfig({ env: {} }).training.trainer)).toBe(llamacppLoraTrainerBackend);
    expect(llamacppLoraTrainerBackend.capabilities).toEqual({ device: "cpu", resume: true, base: "gguf" });
    expect(qloraTrainerBackend.capabilities).toEqual({ device: "gpu", resume: false, base: "hf-checkpoint" });
  });

  it("picks qlora by COUNCIL_TRAINER", async () => {
    const trainer = await createTrainer({ config: loadConfig({ env: { COUNCIL_TRAINER: "qlora" } }) });
    expect(trainer).toBeInstanceOf(QloraTrainer);
    expect(trainer.name).toBe("qlora");
  });

  it("refuses an unknown trainer with BACKEND_UNKNOWN listing the registered ones", async () => {
    const error = await createTrainer({ config: loadConfig({ env: { COUNCIL_TRAINER: "remote" } }) }).catch((caught: unknown) => caught);
    expect(isCouncilError(error, "BACKEND_UNKNOWN")).toBe(true);
    expect((error as Error).message).toContain('COUNCIL_TRAINER (config key "training.trainer") to one of: llamacpp-lora, qlora');
  });

  it("a new trainer is one definition plus one registration; it gets its config slice and the command's tuning", async () => {
    const seen: { rank: number; context: TrainerContext }[] = [];
    const remote: TrainerBackend = defineBackend({
      name: "remote",
      description: "trains elsewhere",
      configSchema: z.object({ training: z.object({ rank: z.number() }) }),
      capabilities: { device: "gpu", resume: false, base: "gguf" },
      open: async ({ training }, context): Promise<Trainer> => {
        seen.push({ rank: training.rank, context });
        return { name: "remote", train: () => Promise.reject(new Error("not in this test")) };
      },
    });
    const registry = new BackendRegistry<TrainerBackend>({ kind: "trainer", configKey: "training.trainer" }).register(remote);
    const trainer = await createTrainer({ config: loadConfig({ env: { COUNCIL_TRAINER: "remote", COUNCIL_LORA_RANK: "4" } }), registry, threads: 3 });
    expect(trainer.name).toBe("remote");
    expect(seen).toEqual([{ rank: 4, context: { threads: 3 } }]);
  });
});
