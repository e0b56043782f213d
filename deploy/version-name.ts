import { CouncilError } from "../core/index.js";

/** Registry versions are lowercase hex prefixes of the adapter's sha256 (12 to 64 characters). */
const VERSION_PATTERN = /^[0-9a-f]{12,64}$/;

/**
 * Throws PATH_UNSAFE for anything that could escape `loras/versions/` (separators, `..`, NUL, absolute paths)
 * and ADAPTER_NOT_FOUND-free-form names: a version must be a content-hash prefix.
 */
export function assertVersionName(version: string): string {
  if (typeof version !== "string" || version.length === 0) throw new CouncilError("PATH_UNSAFE", "An adapter version name is required.");
  if (/[\\/\0]/.test(version) || version.includes("..") || version === ".") {
    throw new CouncilError("PATH_UNSAFE", `Adapter version ${JSON.stringify(version)} contains a path separator or '..'; use a version id from \`council status\`.`, {
      details: { version },
    });
  }
  if (!VERSION_PATTERN.test(version)) {
    throw new CouncilError("PATH_UNSAFE", `Adapter version ${JSON.stringify(version)} is not a content-hash id (12-64 lowercase hex characters).`, {
      details: { version },
    });
  }
  return version;
}
