// Builds the llama.cpp tools Council needs from the source node-llama-cpp ships
// (node_modules/node-llama-cpp/llama/gitRelease.bundle), plus Council's own LoRA trainer
// (native/lora-train, mirrored into the tree as examples/council-lora-train via per-file symlinks).
//
// Layout:
//   native/build/llama.cpp/          git clone of the bundle (+ native/llama-patches/*.patch applied)
//   native/build/llama.cpp/build/    cmake build folder (incremental)
//   native/build/bin/<target>        the binaries Council runs (the contract: NATIVE_BUILD_DIR/bin)
//   native/build/manifest.json       llama.cpp tag/commit, cache keys, targets
//   <cache>/llama.cpp/<baseKey>/     cached base binaries  (key: bundle sha, flags, patches, compiler, CPU)
//   <cache>/council-lora-train/<loraKey>/  cached trainer (key: baseKey + native/lora-train sources)
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { cacheKey, capture, copyAtomic, hashTree, listFiles, log, readCache, readJsonFile, run, SetupError, sha256, sha256File, storeInCache, writeAtomic } from "./util.mjs";

export const BASE_TARGETS = ["llama-finetune", "llama-completion", "llama-server", "llama-export-lora"];
export const LORA_TARGET = "council-lora-train";

/** CMake flags: Release, static, CPU only, nothing downloaded at configure or build time. */
export const CMAKE_FLAGS = [
  "-DCMAKE_BUILD_TYPE=Release",
  "-DBUILD_SHARED_LIBS=OFF",
  "-DLLAMA_CURL=OFF",
  "-DLLAMA_OPENSSL=OFF",
  "-DLLAMA_BUILD_UI=OFF",
  "-DLLAMA_USE_PREBUILT_UI=OFF",
  "-DLLAMA_BUILD_TESTS=OFF",
  "-DGGML_CUDA=OFF",
  "-DGGML_VULKAN=OFF",
  "-DGGML_METAL=OFF",
  "-DGGML_CCACHE=OFF",
];

export function llamaPaths(root) {
  const buildRoot = join(root, "native", "build");
  return {
    bundle: join(root, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle"),
    info: join(root, "node_modules", "node-llama-cpp", "llama", "llama.cpp.info.json"),
    patches: join(root, "native", "llama-patches"),
    loraSource: join(root, "native", "lora-train"),
    buildRoot,
    tree: join(buildRoot, "llama.cpp"),
    cmakeBuild: join(buildRoot, "llama.cpp", "build"),
    bin: join(buildRoot, "bin"),
    manifest: join(buildRoot, "manifest.json"),
  };
}

function patchFiles(paths) {
  return existsSync(paths.patches) ? listFiles(paths.patches).filter((file) => file.endsWith(".patch")) : [];
}

/** Everything that decides what the build produces, hashed into cache keys. */
export function llamaInputs(root) {
  const paths = llamaPaths(root);
  if (!existsSync(paths.bundle)) {
    throw new SetupError(`llama.cpp source bundle not found at ${relative(root, paths.bundle)}`, { fix: "npm ci (node-llama-cpp 3.22.1 ships it)" });
  }
  const heads = capture("git", ["bundle", "list-heads", paths.bundle]);
  if (!heads.ok) throw new SetupError(`git cannot read ${paths.bundle}: ${heads.output}`, { fix: "apt-get install -y git; then npm ci" });
  const commit = heads.stdout.trim().split(/\s+/)[0];
  const tag = readJsonFile(paths.info)?.tag ?? "unknown";
  const patches = patchFiles(paths).map((file) => ({ file, sha256: sha256File(join(paths.patches, file)) }));
  const compiler = capture("c++", ["--version"]).stdout.split("\n")[0] ?? "";
  const cmake = capture("cmake", ["--version"]).stdout.split("\n")[0] ?? "";
  // GGML_NATIVE builds for this CPU (-march=native): cached binaries are only valid on the same CPU features.
  const cpuFlags = sha256((readFileSafe("/proc/cpuinfo").match(/^flags\s*:.*$/m) ?? [""])[0]).slice(0, 16);
  const base = { bundleSha256: sha256File(paths.bundle), commit, flags: CMAKE_FLAGS, patches, compiler, cmake, cpuFlags, arch: process.arch };
  const baseKey = cacheKey(base);
  const hasLora = existsSync(join(paths.loraSource, "CMakeLists.txt"));
  const loraKey = hasLora ? cacheKey({ baseKey, sources: hashTree(paths.loraSource) }) : undefined;
  const targets = hasLora ? [...BASE_TARGETS, LORA_TARGET] : [...BASE_TARGETS];
  return { paths, tag, commit, base, baseKey, loraKey, targets };
}

function readFileSafe(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return ""; // not Linux: the CPU part of the key is empty
  }
}

/** Every target is in bin/, executable, and is the file the manifest recorded (a hand-made rebuild is not). */
export function binariesMatch(paths, names, manifest) {
  return names.every((name) => {
    const file = join(paths.bin, name);
    return existsSync(file) && (statSync(file).mode & 0o111) !== 0 && manifest?.targets?.[name]?.sha256 === sha256File(file);
  });
}

/**
 * Makes native/build/bin hold every target for the current inputs: skip when the manifest matches,
 * else restore from the cache, else build (incrementally when the tree exists).
 */
export function ensureLlamaCpp({ root, cache, jobs = 2, force = false }) {
  const inputs = llamaInputs(root);
  const { paths, targets, baseKey, loraKey } = inputs;
  // The source tree is needed beside the binaries (restored from the cache or not): the QLoRA trainer converts its
  // PEFT adapter with the tree's convert_lora_to_gguf.py and gguf-py. Cheap when it is already there.
  ensureTree(inputs);
  const manifest = readJsonFile(paths.manifest);
  if (!force && manifest?.cacheKey === baseKey && manifest?.loraKey === loraKey && binariesMatch(paths, targets, manifest)) {
    return { status: "up to date", inputs };
  }
  const baseCacheDir = cache && join(cache, "llama.cpp", baseKey);
  const loraCacheDir = cache && loraKey && join(cache, LORA_TARGET, loraKey);
  const sources = {};
  if (!force) {
    const cachedBase = readCache(baseCacheDir, BASE_TARGETS);
    if (cachedBase) Object.assign(sources, cachedBase);
    const cachedLora = loraKey && readCache(loraCacheDir, [LORA_TARGET]);
    if (cachedLora) Object.assign(sources, cachedLora);
  }
  const toBuild = targets.filter((name) => !(name in sources));
  if (toBuild.length > 0) {
    buildTargets({ inputs, targets: toBuild, jobs });
    for (const name of toBuild) sources[name] = join(paths.cmakeBuild, "bin", name);
    if (toBuild.some((name) => BASE_TARGETS.includes(name))) {
      storeInCache(baseCacheDir, Object.fromEntries(BASE_TARGETS.map((name) => [name, join(paths.cmakeBuild, "bin", name)])));
    }
    if (toBuild.includes(LORA_TARGET)) storeInCache(loraCacheDir, { [LORA_TARGET]: sources[LORA_TARGET] });
  }
  mkdirSync(paths.bin, { recursive: true });
  for (const name of targets) copyAtomic(sources[name], join(paths.bin, name), 0o755);
  writeManifest({ inputs, built: toBuild });
  return { status: toBuild.length === 0 ? "restored from cache" : `built ${toBuild.join(", ")}`, inputs };
}

function writeManifest({ inputs, built }) {
  const { paths } = inputs;
  const manifest = {
    llamaCpp: { tag: inputs.tag, commit: inputs.commit, bundleSha256: inputs.base.bundleSha256, source: "node_modules/node-llama-cpp/llama/gitRelease.bundle" },
    cacheKey: inputs.baseKey,
    loraKey: inputs.loraKey,
    flags: CMAKE_FLAGS,
    patches: inputs.base.patches,
    compiler: inputs.base.compiler,
    targets: Object.fromEntries(inputs.targets.map((name) => [name, { path: `bin/${name}`, sha256: sha256File(join(paths.bin, name)), from: built.includes(name) ? "build" : "cache" }])),
    writtenAt: new Date().toISOString(),
  };
  writeAtomic(paths.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Clones (or reuses) the tree, links the LoRA trainer in, configures and builds `targets`. */
export function buildTargets({ inputs, targets, jobs }) {
  const { paths } = inputs;
  ensureTree(inputs);
  syncLoraTrainer(inputs);
  const cacheFile = join(paths.cmakeBuild, "CMakeCache.txt");
  const flagsStamp = join(paths.cmakeBuild, ".council-flags");
  if (!existsSync(cacheFile) || readFileSafe(flagsStamp) !== CMAKE_FLAGS.join(" ")) {
    log(`llama.cpp: cmake configure (${CMAKE_FLAGS.join(" ")})`);
    run("nice", ["-n", "10", "cmake", "-S", paths.tree, "-B", paths.cmakeBuild, ...CMAKE_FLAGS], { fix: "apt-get install -y cmake g++ (then npm run setup)" });
    writeFileSync(flagsStamp, CMAKE_FLAGS.join(" "));
  }
  log(`llama.cpp: building ${targets.join(", ")} with -j${jobs} (a fresh build takes several minutes)`);
  run("nice", ["-n", "10", "cmake", "--build", paths.cmakeBuild, "--config", "Release", "-j", String(jobs), "--target", ...targets], {
    fix: `see the compiler error above; retry with: cmake --build ${relative(process.cwd(), paths.cmakeBuild)} --target ${targets.join(" ")} -j${jobs}`,
  });
  for (const name of targets) {
    if (!existsSync(join(paths.cmakeBuild, "bin", name))) throw new SetupError(`cmake built ${name} but ${join(paths.cmakeBuild, "bin", name)} is missing`);
  }
}

function ensureTree(inputs) {
  const { paths, commit } = inputs;
  const patchStamp = join(paths.tree, ".council-patches");
  const wantedPatches = JSON.stringify(inputs.base.patches);
  const head = existsSync(join(paths.tree, ".git")) ? capture("git", ["-C", paths.tree, "rev-parse", "HEAD"]).stdout.trim() : "";
  if (head === commit && readFileSafe(patchStamp) === wantedPatches) return;
  if (existsSync(paths.tree)) log("llama.cpp: source tree is stale (other release or patches); re-cloning");
  rmSync(paths.tree, { recursive: true, force: true });
  mkdirSync(paths.buildRoot, { recursive: true });
  log(`llama.cpp: cloning ${inputs.tag} (${commit.slice(0, 12)}) from the bundle`);
  run("git", ["-c", "advice.detachedHead=false", "clone", "--quiet", paths.bundle, paths.tree], { fix: "apt-get install -y git" });
  for (const patch of inputs.base.patches) {
    log(`llama.cpp: applying native/llama-patches/${patch.file}`);
    run("git", ["-C", paths.tree, "apply", join(paths.patches, patch.file)], { fix: `native/llama-patches/${patch.file} no longer applies to ${inputs.tag}: refresh it` });
  }
  writeFileSync(patchStamp, wantedPatches);
}

/**
 * Mirrors native/lora-train into the tree as examples/council-lora-train: a real folder whose files are
 * symlinks to native/lora-train/* (so `../../src` in its CMakeLists resolves inside the llama.cpp tree, and
 * edits to native/lora-train are picked up by `cmake --build … --target council-lora-train`), then
 * registers it with add_subdirectory. New or removed files are re-synced on the next setup run.
 */
export function syncLoraTrainer(inputs) {
  const { paths } = inputs;
  const mirror = join(paths.tree, "examples", LORA_TARGET);
  const examplesList = join(paths.tree, "examples", "CMakeLists.txt");
  const line = `add_subdirectory(${LORA_TARGET})`;
  const listText = readFileSync(examplesList, "utf8");
  if (!existsSync(join(paths.loraSource, "CMakeLists.txt"))) {
    rmSync(mirror, { recursive: true, force: true });
    if (listText.includes(line)) writeFileSync(examplesList, listText.replace(`\n${line}\n`, "\n"));
    return;
  }
  if (existsSync(mirror) && lstatSync(mirror).isSymbolicLink()) unlinkSync(mirror);
  const wanted = new Set(listFiles(paths.loraSource));
  for (const file of listFiles(mirror)) if (!wanted.has(file)) rmSync(join(mirror, file), { force: true });
  for (const file of wanted) {
    const link = join(mirror, file);
    const target = join(paths.loraSource, file);
    let current;
    try {
      current = readlinkSync(link);
    } catch {
      current = undefined; // absent (or a plain file from an older setup): replaced below
    }
    if (current === target) continue;
    rmSync(link, { force: true });
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(target, link);
  }
  if (!listText.includes(line)) writeFileSync(examplesList, `${listText.trimEnd()}\n${line}\n`);
}
