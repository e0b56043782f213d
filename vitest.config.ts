import { defineConfig } from "vitest/config";

const shared = { exclude: ["node_modules/**", "dist/**", "native/build/**"] };

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["**/*.test.ts"],
          exclude: [...shared.exclude, "**/*.int.test.ts"],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["**/*.int.test.ts"],
          exclude: shared.exclude,
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // Integration tests share one CPU-bound model and native builds: run files one at a time.
          fileParallelism: false,
          env: { OMP_NUM_THREADS: "1" },
        },
      },
    ],
  },
});
