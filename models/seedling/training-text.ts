import { createHash } from "node:crypto";
import { renderExample, type TemplateMessage } from "../prompt-template.js";
import { SeededRandom } from "../gguf/index.js";
import type { KbDocument, KbSection } from "./kb-corpus.js";

export interface TrainingTextOptions {
  documents: readonly KbDocument[];
  /** The answerer's system prompt, so the model learns the exact prompt it will see. */
  systemPrompt: string;
  seed: number;
  /** Fraction of segments held out for validation. @default 0.1 */
  validationFraction?: number;
  /** Longest context passage, like the answerer's maxPassageChars. @default 600 */
  maxPassageChars?: number;
}

export interface TrainingText {
  train: string;
  validation: string;
  counts: { documentSegments: number; chatExamples: number; trainSegments: number; validationSegments: number };
  sha256: string;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max).trimEnd()}…`;
}

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[a-z0-9]{3,}/g) ?? []);
}

function bestSection(sections: readonly KbSection[], query: string): KbSection | undefined {
  const wanted = words(query);
  let best: KbSection | undefined;
  let bestScore = -1;
  for (const section of sections) {
    let score = 0;
    for (const word of words(section.text)) if (wanted.has(word)) score++;
    if (score > bestScore) {
      best = section;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Turns the knowledge base into pre-training text: every section as plain markdown (with its page title),
 * and every Q/A pair as a chat example rendered with the shared prompt template — half without context,
 * half with the most relevant section of its page as a `Context:` passage, as the answerer sends it.
 * Segments are shuffled with the seed; the last `validationFraction` is held out.
 */
export function buildTrainingText({ documents, systemPrompt, seed, validationFraction = 0.1, maxPassageChars = 600 }: TrainingTextOptions): TrainingText {
  const segments: string[] = [];
  let documentSegments = 0;
  let chatExamples = 0;
  for (const document of documents) {
    for (const section of document.sections) {
      segments.push(`# ${document.title}\n\n${section.heading ? `## ${section.heading}\n` : ""}${section.text}`);
      documentSegments++;
    }
    document.questions.forEach(({ question, answer }, index) => {
      let system = systemPrompt;
      if (index % 2 === 1) {
        const section = bestSection(document.sections, `${question} ${answer}`);
        if (section) system += `\n\nContext:\n[1] ${document.title}\n${clip(section.text, maxPassageChars)}`;
      }
      const messages: TemplateMessage[] = [
        { role: "system", content: system },
        { role: "user", content: question },
      ];
      const { prompt, completion } = renderExample(messages, answer);
      segments.push(`${prompt}${completion}`);
      chatExamples++;
    });
  }
  const random = new SeededRandom(seed);
  for (let index = segments.length - 1; index > 0; index--) {
    const other = Math.floor(random.next() * (index + 1));
    [segments[index], segments[other]] = [segments[other] ?? "", segments[index] ?? ""];
  }
  const validationCount = Math.max(1, Math.round(segments.length * validationFraction));
  const trainSegments = segments.slice(0, segments.length - validationCount);
  const validationSegments = segments.slice(segments.length - validationCount);
  const train = `${trainSegments.join("\n\n")}\n`;
  const validation = `${validationSegments.join("\n\n")}\n`;
  return {
    train,
    validation,
    counts: { documentSegments, chatExamples, trainSegments: trainSegments.length, validationSegments: validationSegments.length },
    sha256: createHash("sha256").update(train).update("\u0000").update(validation).digest("hex"),
  };
}
