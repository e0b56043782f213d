import { describe, expect, it } from "vitest";
import { loadConfig } from "../../core/index.js";
import { formatReport, runDoctor } from "./doctor.js";
import { formatCapabilities, registryProbes, registryReports } from "./doctor-registries.js";

const byName = async (config: Parameters<typeof registryProbes>[0]["config"]) =>
  Object.fromEntries((await runDoctor({ probes: registryProbes({ config }) })).checks.map((check) => [check.name, check]));

describe("council doctor: registered backends", () => {
  it("lists every registry with its names and typed capabilities, and the names the default config selects", async () => {
    const checks = await byName(loadConfig({ env: {} }));
    expect(Object.keys(checks)).toEqual(["chat backend", "serving target", "embeddings backend", "memory store", "passage ranker", "run lock", "run records", "trainer"]);
    expect(Object.values(checks).every((check) => check.status === "ok")).toBe(true);
    expect(checks["chat backend"]?.detail).toBe(
      "llama selected (model.backend); registered: llama [adapterHost, dispose, servingTarget=in-process]; openai [servingTarget=openai-compatible]; llama-server [adapterHost, servingTarget=llama-server]",
    );
    expect(checks["serving target"]?.detail).toMatch(/^in-process selected \(model\.backend\); registered: in-process \[adapterHost, adapterLoading=runtime-file\]/);
    expect(checks["memory store"]?.detail).toBe("sqlite selected (memory.store); registered: sqlite [persistent]; in-memory []; postgres [persistent, sharedAcrossReplicas]");
    expect(checks["passage ranker"]?.detail).toBe("hybrid selected (kb.ranker); registered: cosine []; hybrid [lexical]");
    expect(checks["run lock"]?.detail).toBe("file selected (memory.store); registered: file []; postgres [sharedAcrossReplicas]");
    expect(checks["run records"]?.detail).toBe("file selected (memory.store); registered: file []; postgres [sharedAcrossReplicas]");
    expect(checks["trainer"]?.detail).toContain("llamacpp-lora selected (training.trainer)");
  });

  it("COUNCIL_STORE=postgres selects the Postgres run lock", () => {
    const reports = registryReports({ config: loadConfig({ env: { COUNCIL_STORE: "postgres", COUNCIL_DATABASE_URL: "postgres://db/council" } }) });
    expect(reports.find((report) => report.kind === "run lock")?.selected).toBe("postgres");
    expect(reports.find((report) => report.kind === "run records")?.selected).toBe("postgres");
  });

  it("fails a configured name that is not registered, and the fix lists the registered ones", async () => {
    const checks = await byName(loadConfig({ env: { COUNCIL_STORE: "pgvector", COUNCIL_BACKEND: "vllm" } }));
    expect(checks["memory store"]).toMatchObject({ status: "fail", fix: "set memory.store to one of: sqlite, in-memory, postgres" });
    expect(checks["memory store"]?.detail).toMatch(/^"pgvector" is not registered \(memory\.store\)/);
    expect(checks["chat backend"]).toMatchObject({ status: "fail", fix: "set model.backend to one of: llama, openai, llama-server" });
    expect(checks["serving target"]?.status).toBe("fail");
    const report = await runDoctor({ probes: registryProbes({ config: loadConfig({ env: { COUNCIL_STORE: "pgvector" } }) }) });
    expect(report.ok).toBe(false);
    expect(formatReport(report)).toContain("fix: set memory.store to one of: sqlite, in-memory, postgres");
  });

  it("still lists what is registered when the config did not load", async () => {
    const checks = await byName(new Error("bad config"));
    expect(checks["trainer"]).toMatchObject({ status: "ok", detail: "registered: llamacpp-lora [device=cpu, resume, base=gguf]; qlora [device=gpu, base=hf-checkpoint]" });
    expect(registryReports({ config: new Error("bad") }).map((report) => report.selected)).toEqual(Array(8).fill(undefined));
  });

  it("reports the selection in --json", () => {
    const reports = registryReports({ config: loadConfig({ env: { COUNCIL_BACKEND: "openai" } }) });
    expect(reports.map(({ kind, selected }) => [kind, selected])).toEqual([
      ["chat backend", "openai"],
      ["serving target", "openai-compatible"],
      ["embeddings backend", "hash"],
      ["memory store", "sqlite"],
      ["passage ranker", "hybrid"],
      ["run lock", "file"],
      ["run records", "file"],
      ["trainer", "llamacpp-lora"],
    ]);
    expect(formatCapabilities({ adapterHost: true, dispose: false, servingTarget: "in-process" })).toBe("adapterHost, servingTarget=in-process");
  });
});
