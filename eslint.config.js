import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { importBoundaryPlugin } from "./lint/import-boundary.js";

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", "native/build/**", "bench/scratch/**", "coverage/**", "bench/results/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly", URL: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", setImmediate: "readonly", TextEncoder: "readonly", TextDecoder: "readonly", AbortController: "readonly", AbortSignal: "readonly", fetch: "readonly", performance: "readonly", structuredClone: "readonly", queueMicrotask: "readonly", document: "readonly", window: "readonly", WebSocket: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-syntax": ["error", { selector: "MemberExpression[object.name='process'][property.name='env']", message: "Read configuration through core/config only." }],
    },
  },
  { files: ["**/*.ts"], plugins: { council: importBoundaryPlugin }, rules: { "council/import-boundary": "error" } },
  { files: ["core/config.ts", "scripts/setup/**", "test/**", "**/*.test.ts", "bench/**", "vitest.config.ts"], rules: { "no-restricted-syntax": "off" } },
);
