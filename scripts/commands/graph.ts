import type { Command } from "commander";
import { loadConfig } from "../../core/index.js";
import { drawChatGraph, loadGraphSpec } from "../../graphs/index.js";

export function register(program: Command): void {
  const graph = program.command("graph").description("The chat graph (route → recall → answer → critique ⇄ revise → record)");
  graph
    .command("draw")
    .description("Print the chat graph as Mermaid, as the configured graph spec (COUNCIL_GRAPH_SPEC) wires it")
    .option("--spec <file>", "graph spec JSON to draw instead of the configured one")
    .action(async (options: { spec?: string }) => {
      const spec = loadGraphSpec(options.spec ?? loadConfig().agents.graphSpec);
      console.log(await drawChatGraph(spec));
    });
}
