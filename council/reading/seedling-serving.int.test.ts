import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Answerer } from "../../agents/index.js";
import { SEEDLING_PATH } from "../../core/index.js";
import type { PassageHit } from "../../memory/index.js";
import { LlamaChatModel } from "../../models/index.js";

/** tldr passages as the knowledge base retrieves them (bench/seedling-reading.ts, traffic items tldr-awk-0 and tldr-ssh-5). */
const passage = (page: string, description: string, command: string, score: number): PassageHit => ({
  passage: { id: `${page}-${score}`, source: `tldr/${page}.md`, title: page, text: `${description}:\n\`${command}\`` },
  score,
});
const CASES = [
  {
    question: "How do I print the fifth column (a.k.a. field) in a space-separated file using awk?",
    command: "`awk '{print $5}' path/to/file`",
    passages: [
      passage("awk", "Print the fifth column (a.k.a. field) in a space-separated file", "awk '{print $5}' {{path/to/file}}", 0.9),
      passage("awk", "Print the last column of each line in a file, using a comma (instead of space) as a field separator", "awk -F ',' '{print $NF}' {{path/to/file}}", 0.8),
      passage("awk", 'Print the second column of the lines containing "foo" in a space-separated file', "awk '/{{foo}}/ {print $2}' {{path/to/file}}", 0.7),
    ],
  },
  {
    question: "How do I SSH tunneling: Forward a specific port (`localhost:9999` to `example.org:80`) along with disabling pseudo-Tty allocation and executioN of remote commands using ssh?",
    command: "`ssh username@remote_host -L 9999:example.org:80 -N -T`",
    passages: [
      passage("ssh", "SSH tunneling: Forward a specific port (`localhost:9999` to `example.org:80`) along with disabling pseudo-Tty allocation and executioN of remote commands", "ssh {{username}}@{{remote_host}} -L {{9999}}:{{example.org}}:{{80}} -N -T", 0.9),
      passage("ssh", "SSH tunneling: Dynamic port forwarding (SOCKS proxy on `localhost:1080`)", "ssh {{username}}@{{remote_host}} -D {{1080}}", 0.8),
      passage("ssh", "Connect to a remote server", "ssh {{username}}@{{remote_host}}", 0.7),
    ],
  },
];

/**
 * Serving the committed seedling: greedy decoding falls into token cycles ("a.k.a.a.a.a…", "9999999…") that run to
 * the token cap; the loop ban (LlamaChatModel's default) makes it leave the cycle and end its answer.
 */
describe("the reading seedling served with the loop ban", () => {
  let plain: LlamaChatModel;
  let banned: LlamaChatModel;

  beforeAll(async () => {
    plain = await LlamaChatModel.create({ modelPath: SEEDLING_PATH, parallel: 1, loopBan: false });
    banned = await LlamaChatModel.create({ modelPath: SEEDLING_PATH, parallel: 1 });
  }, 120_000);
  afterAll(async () => {
    await plain?.dispose();
    await banned?.dispose();
  });

  it("without it the answers loop to the cap; with it they end on their own and start with the command", async () => {
    for (const { question, command, passages } of CASES) {
      const before = await new Answerer({ model: plain, maxTokens: 160 }).answer({ question, passages, adapter: null });
      const after = await new Answerer({ model: banned, maxTokens: 160 }).answer({ question, passages, adapter: null });
      expect(before.truncated, before.answer).toBe(true);
      expect(after, after.answer).toMatchObject({ truncated: false, runaway: false });
      expect(after.tokens).toBeLessThan(100);
      expect(after.answer.startsWith(command), after.answer).toBe(true);
    }
  }, 300_000);
});
