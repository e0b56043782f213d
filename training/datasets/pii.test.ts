import { describe, expect, it } from "vitest";
import { scrubPii } from "./pii.js";

describe("scrubPii", () => {
  it("replaces each kind of PII and counts it", () => {
    const { text, counts } = scrubPii(
      "Mail jane.doe@example.com or call +1 555-123-4567; host 10.0.12.7; key sk-abcdefghijklmnopqrstuv; card 4111 1111 1111 1111.",
    );
    expect(text).toBe("Mail [EMAIL] or call [PHONE]; host [IP]; key [SECRET]; card [CARD].");
    expect(counts).toEqual({ email: 1, phone: 1, ip: 1, secret: 1, card: 1 });
  });

  it("leaves ordinary helpdesk text alone", () => {
    const input = "Run `tar -xzf backup-2024-01-05.tar.gz` then `chmod 755 script.sh` (takes 10 seconds).";
    expect(scrubPii(input).text).toBe(input);
  });

  it("keeps digit runs that fail the Luhn check", () => {
    expect(scrubPii("order 1234 5678 9012 3456").text).toBe("order 1234 5678 9012 3456");
  });

  it("scrubs password assignments and bearer tokens", () => {
    expect(scrubPii("password=hunter2secret and Authorization: Bearer abcdefghijklmnop1234").text).toBe("[SECRET] and Authorization: [SECRET]");
  });
});
