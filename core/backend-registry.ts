import type { z } from "zod";
import { envKeyFor } from "./config.js";
import { CouncilError } from "./errors.js";

/**
 * One registered backend: its name (what config picks), a one-line description, the zod schema of the config
 * slice it needs, and its capabilities as typed fields (what callers branch on instead of duck typing).
 * `create` parses the slice out of the whole config (CONFIG_INVALID naming the key and its variable) and builds.
 */
export interface Backend<Context, Made, Capabilities> {
  readonly name: string;
  readonly description: string;
  /** Parses the backend's settings out of the whole config; an object schema ignores keys it does not name. */
  readonly configSchema: z.ZodTypeAny;
  readonly capabilities: Capabilities;
  create(config: unknown, context: Context): Made;
}

export interface BackendDefinition<Settings, Context, Made, Capabilities> {
  name: string;
  description: string;
  configSchema: z.ZodType<Settings, z.ZodTypeDef, unknown>;
  capabilities: Capabilities;
  /** Builds the backend from its parsed settings. */
  open(settings: Settings, context: Context): Made;
}

/** Turns a definition into a {@link Backend}: `create` parses the config slice with the schema, then opens. */
export function defineBackend<Settings, Context, Made, Capabilities>(definition: BackendDefinition<Settings, Context, Made, Capabilities>): Backend<Context, Made, Capabilities> {
  const { name, description, configSchema, capabilities, open } = definition;
  return {
    name,
    description,
    configSchema,
    capabilities,
    create(config, context) {
      const parsed = configSchema.safeParse(config);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const key = issue.path.join(".");
        const envKey = envKeyFor(key);
        const where = envKey === undefined ? `config key "${key}"` : `${envKey} (config key "${key}")`;
        const missing = issue.code === "invalid_type" && issue.received === "undefined";
        const message = missing ? `The ${name} backend needs ${where}.` : `Invalid ${where} for the ${name} backend: ${issue.message}`;
        throw new CouncilError("CONFIG_INVALID", message, { details: { key, ...(envKey === undefined ? {} : { envKey }), backend: name } });
      }
      return open(parsed.data as Settings, context);
    },
  };
}

/** What `council doctor` prints for one registry. */
export interface RegistryListing {
  kind: string;
  configKey: string;
  entries: { name: string; description: string; capabilities: Record<string, unknown> }[];
}

/**
 * Backends of one kind (chat backends, embeddings, memory stores, trainers, serving targets), by name.
 * Config picks one with {@link BackendRegistry.get}; an unknown name is BACKEND_UNKNOWN listing the registered ones.
 */
export class BackendRegistry<Entry extends Backend<never, unknown, object>> {
  /** Words for messages: "chat backend", "memory store". */
  readonly kind: string;
  /** The config path that names the backend, e.g. `model.backend`. */
  readonly configKey: string;
  readonly #entries = new Map<string, Entry>();

  constructor({ kind, configKey }: { kind: string; configKey: string }) {
    this.kind = kind;
    this.configKey = configKey;
  }

  /** Adds a backend. A second one under the same name is BACKEND_DUPLICATE. */
  register(entry: Entry): this {
    if (this.#entries.has(entry.name)) throw new CouncilError("BACKEND_DUPLICATE", `A ${this.kind} named "${entry.name}" is already registered.`, { details: { kind: this.kind, name: entry.name } });
    this.#entries.set(entry.name, entry);
    return this;
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** The backend registered as `name`; BACKEND_UNKNOWN naming the config key, its variable and the registered names. */
  get(name: string): Entry {
    const entry = this.#entries.get(name);
    if (entry !== undefined) return entry;
    const envKey = envKeyFor(this.configKey);
    const names = this.names();
    const where = envKey === undefined ? `config key "${this.configKey}"` : `${envKey} (config key "${this.configKey}")`;
    throw new CouncilError("BACKEND_UNKNOWN", `Unknown ${this.kind} "${name}". Set ${where} to one of: ${names.join(", ")}.`, {
      details: { kind: this.kind, name, key: this.configKey, registered: names },
    });
  }

  /** Registered names, in registration order. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  list(): Entry[] {
    return [...this.#entries.values()];
  }

  listing(): RegistryListing {
    return {
      kind: this.kind,
      configKey: this.configKey,
      entries: this.list().map(({ name, description, capabilities }) => ({ name, description, capabilities: { ...capabilities } })),
    };
  }
}
