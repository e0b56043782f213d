// ESLint rule: imports between the top-level folders point one way and go through a folder's index.
// scripts → bench → server → council → graphs → agents → memory/models/training/deploy/cron → core (STYLE.md, "Layout").
// Cycles inside one layer are dpdm's job (`npm run lint` runs it after eslint).
import { dirname, join, normalize, relative, sep } from "node:path";

/** Layer of each top-level folder: a file may import its own layer or a lower one. */
export const LAYERS = Object.freeze({ core: 0, models: 1, memory: 1, training: 1, deploy: 1, cron: 1, agents: 2, graphs: 3, council: 4, server: 5, bench: 6, scripts: 7 });

/** Test support (fakes, fixtures, contract suites, helpers): tests and benches may import it; shipped code may not. */
export function isTestSupport(path) {
  return /(^|\/)test\//.test(path) || /(^|\/)testing\//.test(path) || /\.test\.[jt]s$/.test(path) || /\.contract\.[jt]s$/.test(path) || /(^|\/)test-[^/]*$/.test(path) || /^ops\//.test(path);
}

/**
 * Checks one relative import, both paths relative to the project root with "/" separators.
 * @returns {{ messageId: "direction" | "index" | "testSupport", data: Record<string, string> } | undefined}
 */
export function checkImport({ from, specifier }) {
  if (!specifier.startsWith(".") || isTestSupport(from)) return undefined;
  const sourceTop = from.split("/")[0];
  if (!(sourceTop in LAYERS)) return undefined;
  const target = normalize(join(dirname(from), specifier)).split(sep).join("/");
  const targetTop = target.split("/")[0];
  if (targetTop === sourceTop) return undefined;
  if (isTestSupport(target)) return sourceTop === "bench" ? undefined : { messageId: "testSupport", data: { target } };
  if (!(targetTop in LAYERS)) return undefined;
  if (LAYERS[targetTop] > LAYERS[sourceTop]) return { messageId: "direction", data: { from: sourceTop, to: targetTop } };
  if (!/(^|\/)index\.[jt]s$/.test(target)) return { messageId: "index", data: { target, folder: targetTop } };
  return undefined;
}

/** @type {import("eslint").Rule.RuleModule} */
export const importBoundaryRule = {
  meta: {
    type: "problem",
    docs: { description: "Cross-folder imports point down the layers and go through the folder's index.ts" },
    schema: [],
    messages: {
      direction: "{{from}}/ may not import {{to}}/: imports point scripts → bench → server → council → graphs → agents → memory/models/training/deploy/cron → core.",
      index: "Import {{folder}}/ through its index (not {{target}}); export what you need from that folder's index.ts.",
      testSupport: "Shipped code may not import test support ({{target}}).",
    },
  },
  create(context) {
    const from = relative(context.cwd, context.filename).split(sep).join("/");
    const check = (node) => {
      const source = node.source;
      if (source?.type !== "Literal" || typeof source.value !== "string") return;
      const problem = checkImport({ from, specifier: source.value });
      if (problem) context.report({ node: source, ...problem });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export const importBoundaryPlugin = { meta: { name: "council-import-boundary" }, rules: { "import-boundary": importBoundaryRule } };
