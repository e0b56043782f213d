import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CouncilError } from "../../core/index.js";

export interface KbSection {
  heading: string;
  text: string;
}

export interface KbQuestion {
  question: string;
  answer: string;
}

export interface KbDocument {
  file: string;
  title: string;
  sections: KbSection[];
  questions: KbQuestion[];
}

const QA_HEADING = /^questions and answers$/i;

/** Parses one knowledge-base markdown file: `# Title`, `## Section`s, and a `## Questions and answers` section of `Q:`/`A:` lines. */
export function parseKbDocument(file: string, markdown: string): KbDocument {
  const lines = markdown.replace(/\r\n/g, "\n").split("\n");
  const titleLine = lines.find((line) => line.startsWith("# "));
  if (titleLine === undefined) throw new CouncilError("DATASET_INVALID", `${file}: a knowledge-base file must start with a "# Title" line`, { details: { file } });
  const title = titleLine.slice(2).trim();
  const sections: KbSection[] = [];
  const questions: KbQuestion[] = [];
  let heading = "";
  let body: string[] = [];
  const flush = (): void => {
    const text = body.join("\n").trim();
    if (QA_HEADING.test(heading)) {
      let current: { question: string; answer: string[] } | undefined;
      const push = (): void => {
        if (current && current.answer.length > 0) questions.push({ question: current.question, answer: current.answer.join(" ").trim() });
      };
      for (const line of text.split("\n")) {
        if (line.startsWith("Q:")) {
          push();
          current = { question: line.slice(2).trim(), answer: [] };
        } else if (line.startsWith("A:") && current) {
          current.answer.push(line.slice(2).trim());
        } else if (line.trim() !== "" && current && current.answer.length > 0) {
          current.answer.push(line.trim());
        }
      }
      push();
    } else if (text.length > 0) {
      sections.push({ heading, text });
    }
    body = [];
  };
  for (const line of lines) {
    if (line === titleLine) continue;
    if (line.startsWith("## ")) {
      flush();
      heading = line.slice(3).trim();
    } else {
      body.push(line);
    }
  }
  flush();
  return { file, title, sections, questions };
}

/** Reads every `*.md` file of a folder, sorted by name (deterministic). */
export async function loadKbDocuments(dir: string): Promise<KbDocument[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith(".md")).sort();
  } catch (cause) {
    throw new CouncilError("DATASET_EMPTY", `Knowledge-base folder ${dir} cannot be read; point --corpus at a folder of markdown files.`, { cause });
  }
  if (names.length === 0) throw new CouncilError("DATASET_EMPTY", `Knowledge-base folder ${dir} has no .md files.`);
  return Promise.all(names.map(async (name) => parseKbDocument(name, await readFile(join(dir, name), "utf8"))));
}
