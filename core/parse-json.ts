import type { ZodType } from "zod";
import { CouncilError, fail, ok, type CouncilErrorCode, type Result } from "./errors.js";

/**
 * Parses untrusted JSON text and validates it against a schema, never throwing.
 * @param code the error code to report on failure
 * @default code "FRAME_INVALID"
 */
export function safeParseJson<T>(text: string, schema: ZodType<T>, code: CouncilErrorCode = "FRAME_INVALID"): Result<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    return fail(new CouncilError(code, `Not valid JSON: ${(cause as Error).message}`, { cause }));
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join(".") : "(root)";
    return fail(new CouncilError(code, `Invalid ${where}: ${issue?.message ?? "schema mismatch"}`, { cause: parsed.error }));
  }
  return ok(parsed.data);
}
