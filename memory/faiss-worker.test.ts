import { describe, expect, it } from "vitest";
import { errorFromWorker } from "./faiss-index.js";
import { FAISS_WORKER_SOURCE, faissWorkerMain } from "./faiss-worker.js";

describe("FAISS worker protocol", () => {
  it("turns the worker's { code, message } into a CouncilError of that code", () => {
    expect(errorFromWorker({ code: "VECTOR_INVALID", message: "query has the wrong dimension" })).toMatchObject({ code: "VECTOR_INVALID", message: "query has the wrong dimension" });
    expect(errorFromWorker({ code: "MEMORY_CORRUPT", message: "row ids are not dense at 3" })).toMatchObject({ code: "MEMORY_CORRUPT" });
    expect(errorFromWorker({ code: "INTERNAL", message: "boom" })).toMatchObject({ code: "INTERNAL", message: "FAISS worker: boom" });
  });

  it("serialises the typed worker function into CommonJS source that parses", () => {
    expect(FAISS_WORKER_SOURCE).toContain(faissWorkerMain.toString());
    expect(() => new Function("require", FAISS_WORKER_SOURCE)).not.toThrow();
  });
});
