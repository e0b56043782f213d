import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CouncilError, PROJECT_ROOT } from "../../core/index.js";

/** Runs one of the standalone bench scripts in a child process and returns the JSON it wrote into `outDir`. */
export async function runScript(script: string, args: readonly string[], log: (line: string) => void): Promise<unknown> {
  const outDir = await mkdtemp(join(tmpdir(), "council-perf-"));
  try {
    const argv = ["--import", "tsx", join(PROJECT_ROOT, "bench", script), ...args, "--out", outDir];
    log(`perf: tsx bench/${script} ${args.join(" ")}`);
    const output: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, argv, { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? "1" } });
      const keep = (chunk: Buffer) => {
        output.push(chunk.toString());
        if (output.length > 200) output.shift();
      };
      child.stdout.on("data", keep);
      child.stderr.on("data", keep);
      child.on("error", reject);
      child.on("close", resolve);
    });
    // A bench that measured but missed its own target exits 1 after writing its file: keep the measurement.
    const files = (await readdir(outDir)).filter((file) => file.endsWith(".json"));
    if (files.length !== 1) throw new CouncilError("BENCH_FAILED", `bench/${script} exited with ${code} and wrote ${files.length} result files: ${output.join("").slice(-1500)}`);
    return JSON.parse(await readFile(join(outDir, files[0]!), "utf8")) as unknown;
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
