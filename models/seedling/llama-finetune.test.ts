import { describe, expect, it } from "vitest";
import { parseFinetuneProgress } from "./index.js";

describe("parseFinetuneProgress", () => {
  it("takes the final train and val figures of each epoch from llama-finetune's \\r progress bars", () => {
    const bar = (kind: string, done: number, total: number, loss: number): string => `${kind}[████] data=${String(done).padStart(7, "0")}/${String(total).padStart(7, "0")} loss=${loss.toFixed(5)}±0.01000 acc=10.00±1.00% t=00:00:01 ETA=00:00:00 \r`;
    const output = [
      "llama_model_loader: noise\n",
      bar("train: ", 1, 2, 6.5), bar("train: ", 2, 2, 6.1), "\n",
      bar("val:   ", 1, 1, 5.9), "\n\n",
      bar("train: ", 1, 2, 5.0), bar("train: ", 2, 2, 4.8), "\n",
      bar("val:   ", 1, 1, 4.9), "\n\n",
    ].join("");
    expect(parseFinetuneProgress(output)).toEqual([
      { epoch: 1, trainLoss: 6.1, validationLoss: 5.9 },
      { epoch: 2, trainLoss: 4.8, validationLoss: 4.9 },
    ]);
    expect(parseFinetuneProgress(bar("val:   ", 3, 3, 5.5))).toEqual([{ epoch: 1, trainLoss: undefined, validationLoss: 5.5 }]);
    expect(parseFinetuneProgress("error: nothing")).toEqual([]);
  });
});
