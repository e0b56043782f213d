/** What the scrubber replaces, in order (earlier patterns win). */
const PATTERNS: ReadonlyArray<{ kind: PiiKind; pattern: RegExp; check?: (match: string) => boolean }> = [
  { kind: "secret", pattern: /\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}\b/g },
  { kind: "secret", pattern: /\b(?:ghp|gho|ghu|ghs|ghr|glpat|xox[abpr])[-_][A-Za-z0-9_-]{16,}\b/g },
  { kind: "secret", pattern: /\bAKIA[0-9A-Z]{16}\b/g },
  { kind: "secret", pattern: /\b[Bb]earer\s+[A-Za-z0-9._~+/-]{16,}=*/g },
  { kind: "secret", pattern: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g },
  { kind: "secret", pattern: /\b(?:api[_-]?key|token|secret|password|passwd)\s*[:=]\s*\S{6,}/gi },
  { kind: "email", pattern: /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g },
  { kind: "card", pattern: /\b(?:\d[ -]?){12,18}\d\b/g, check: (match) => luhn(match.replace(/\D/g, "")) },
  { kind: "ip", pattern: /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g },
  { kind: "ip", pattern: /\b(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\b/g },
  { kind: "phone", pattern: /(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\b\d{3}[\s.-])\d{3}[\s.-]\d{3,4}\b/g },
];

export type PiiKind = "email" | "phone" | "ip" | "secret" | "card";

const PLACEHOLDER: Record<PiiKind, string> = { email: "[EMAIL]", phone: "[PHONE]", ip: "[IP]", secret: "[SECRET]", card: "[CARD]" };

function luhn(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

export type PiiCounts = Record<PiiKind, number>;

export const emptyPiiCounts = (): PiiCounts => ({ email: 0, phone: 0, ip: 0, secret: 0, card: 0 });

/** Replaces e-mails, phone numbers, IPs, API keys/tokens and card numbers with placeholders. */
export function scrubPii(text: string, counts: PiiCounts = emptyPiiCounts()): { text: string; counts: PiiCounts } {
  let result = text;
  for (const { kind, pattern, check } of PATTERNS) {
    result = result.replace(pattern, (match) => {
      if (check && !check(match)) return match;
      counts[kind] += 1;
      return PLACEHOLDER[kind];
    });
  }
  return { text: result, counts };
}
