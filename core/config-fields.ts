import { z } from "zod";

// Field types shared by the config schema's sections (core/config.ts and the sections in their own files).

export const csvNumbers = z
  .union([z.string(), z.array(z.number())])
  .transform((value, ctx) => {
    const list = typeof value === "string" ? value.split(",").map((part) => Number(part.trim())) : value;
    if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n <= 0 || n > 100)) {
      ctx.addIssue({ code: "custom", message: "expected comma-separated percentages in (0, 100]" });
      return z.NEVER;
    }
    return list;
  });
export const csvStrings = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (typeof value === "string" ? value.split(",").map((part) => part.trim()).filter(Boolean) : value));
export const bool = z.union([z.boolean(), z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1")]);
export const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
export const num = (min: number, max: number) => z.coerce.number().min(min).max(max);
