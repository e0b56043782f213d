/**
 * Question wordings for the seedling's reading pre-training: a tldr description asked the ways users ask.
 * Templated rewordings only (no page text beyond the description itself), so any allowed page yields questions.
 */

const SYNONYMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bdisplay\b/gi, "show"],
  [/\bdirectory\b/g, "folder"],
  [/\bdirectories\b/g, "folders"],
  [/\bremove\b/gi, "delete"],
  [/\bspecific\b/g, "particular"],
  [/\bcurrent\b/g, "present"],
  [/\bcreate\b/gi, "make"],
  [/\blist\b/gi, "show"],
  [/\bprint\b/gi, "output"],
  [/\bfile\b/g, "file"],
];

const TEMPLATES: ReadonlyArray<(task: string, name: string, description: string) => string> = [
  (task, name) => `How do I ${task} using ${name}?`,
  (task, name) => `What ${name} command would ${task}?`,
  (task, name) => `Show me the ${name} command to ${task}.`,
  (task, name) => `With ${name}, how can I ${task}?`,
  (task, name) => `How can I ${task} with ${name}?`,
  (task, name) => `Which ${name} command do I run to ${task}?`,
  (task, name) => `I need to ${task}. What is the ${name} command?`,
  (task, name) => `${name}: how to ${task}?`,
  (_task, name, description) => `${description} with ${name}`,
  (_task, _name, description) => description,
];

export function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text;
}

/**
 * One question for a description: template `variant % templates`, synonyms swapped in on odd variants.
 * `name` is the command as typed (page name with dashes as spaces).
 */
export function readingQuestion({ description, name, variant }: { description: string; name: string; variant: number }): string {
  let task = lowerFirst(description.replace(/[.:]\s*$/, ""));
  if (variant % 2 === 1) for (const [pattern, replacement] of SYNONYMS) task = task.replace(pattern, replacement);
  const template = TEMPLATES[Math.abs(variant) % TEMPLATES.length]!;
  return template(task, name, description.replace(/[.:]\s*$/, ""));
}

export const READING_TEMPLATE_COUNT = TEMPLATES.length;
