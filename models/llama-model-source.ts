import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { resolveModelFile } from "node-llama-cpp";
import { CouncilError, isCouncilError, type CouncilErrorCode } from "../core/index.js";
import { readGguf } from "./gguf/index.js";

/** The four bytes every GGUF file starts with. */
const GGUF_MAGIC = Buffer.from("GGUF", "ascii");

export interface ResolveModelSourceOptions {
  /** A filesystem path or a `hf:<user>/<repo>[:quant]` / `hf:<user>/<repo>/<file>.gguf` URI. */
  source: string;
  /** Where `hf:` models are looked up (node-llama-cpp's cache layout). @default <cwd>/models/hf */
  modelsDir?: string;
}

/**
 * Turns a model source into a local GGUF path that is known to exist and to start with the GGUF magic.
 * Council never downloads: an `hf:` URI must already be in `modelsDir` (MODEL_DOWNLOAD_OFFLINE otherwise).
 * Missing file: MODEL_NOT_FOUND. Not a GGUF, or a header that is truncated or inconsistent: MODEL_INVALID (the whole
 * header is parsed with the project's bounds-checked reader first: llama.cpp can hang on a truncated file).
 */
export async function resolveModelSource({ source, modelsDir = join(process.cwd(), "models", "hf") }: ResolveModelSourceOptions): Promise<string> {
  let path = source;
  if (source.startsWith("hf:") || /^https?:\/\//.test(source)) {
    try {
      path = await resolveModelFile(source, { directory: modelsDir, download: false, cli: false });
    } catch (cause) {
      throw new CouncilError(
        "MODEL_DOWNLOAD_OFFLINE",
        `Model ${source} is not in the local model folder ${modelsDir}, and Council does not download models at run time ` +
          `(this machine is offline). On a connected machine run \`npx node-llama-cpp pull --dir ${modelsDir} ${source}\` and copy ` +
          `the folder here, or set COUNCIL_MODEL to a local .gguf path.`,
        { cause, details: { source, modelsDir } },
      );
    }
  }
  await assertGgufFile({ path, what: "Model", notFound: "MODEL_NOT_FOUND", invalid: "MODEL_INVALID" });
  try {
    readGguf(path);
  } catch (cause) {
    if (isCouncilError(cause, "MODEL_NOT_FOUND")) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new CouncilError("MODEL_INVALID", `Model file ${path} is a damaged GGUF: ${reason}`, { cause, details: { path } });
  }
  return path;
}

/**
 * Checks that `path` is a readable regular file that begins with the GGUF magic, so a corrupt or foreign file
 * gets a CouncilError instead of reaching llama.cpp.
 */
export async function assertGgufFile({
  path,
  what,
  notFound,
  invalid,
}: {
  path: string;
  what: string;
  notFound: CouncilErrorCode;
  invalid: CouncilErrorCode;
}): Promise<void> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new CouncilError(notFound, `${what} path ${path} is not a file.`, { details: { path } });
    size = info.size;
  } catch (cause) {
    if (cause instanceof CouncilError) throw cause;
    throw new CouncilError(notFound, `${what} file ${path} does not exist. Check the path (COUNCIL_MODEL), or run \`npm run setup\` to build the seedling.`, {
      cause,
      details: { path },
    });
  }
  const head = Buffer.alloc(4);
  const handle = await open(path, "r");
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  if (size < 24 || !head.equals(GGUF_MAGIC)) {
    throw new CouncilError(invalid, `${what} file ${path} is not a GGUF file (bad magic or truncated, ${size} bytes). Rebuild or re-copy it.`, {
      details: { path, size },
    });
  }
}
