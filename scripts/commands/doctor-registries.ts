import type { CouncilConfig, RegistryListing } from "../../core/index.js";
import { runLockers, runRecordStores } from "../../cron/index.js";
import { memoryStores, passageRankers } from "../../memory/index.js";
import { chatBackends, embeddingsBackends, servingTargets } from "../../models/index.js";
import { trainers } from "../../training/index.js";
import type { DoctorProbe } from "./doctor.js";

/** One registry as `council doctor` shows it: what is registered, and which name this config selects. */
export interface RegistryReport extends RegistryListing {
  /** The configured name; undefined when the config did not load. */
  selected: string | undefined;
}

/** A registry `council doctor` reads: its listing, and the name a config selects in it. */
export interface DoctorRegistry {
  listing(): RegistryListing;
  has(name: string): boolean;
  selected(config: CouncilConfig): string;
}

/** Every built-in registry, in the order a process opens them. */
export function builtInRegistries(): DoctorRegistry[] {
  const backendTarget = (config: CouncilConfig) => (chatBackends.has(config.model.backend) ? chatBackends.get(config.model.backend).capabilities.servingTarget : `(backend ${config.model.backend})`);
  return [
    { listing: () => chatBackends.listing(), has: (name) => chatBackends.has(name), selected: (config) => config.model.backend },
    { listing: () => servingTargets.listing(), has: (name) => servingTargets.has(name), selected: backendTarget },
    { listing: () => embeddingsBackends.listing(), has: (name) => embeddingsBackends.has(name), selected: (config) => config.embeddings.backend },
    { listing: () => memoryStores.listing(), has: (name) => memoryStores.has(name), selected: (config) => config.memory.store },
    { listing: () => passageRankers.listing(), has: (name) => passageRankers.has(name), selected: (config) => config.kb.ranker },
    // A store with its own run lock (postgres) selects it; every other store uses the file lock.
    { listing: () => runLockers.listing(), has: (name) => runLockers.has(name), selected: (config) => (runLockers.has(config.memory.store) ? config.memory.store : "file") },
    // Likewise the nights' records: postgres for the postgres store, the run folders otherwise.
    { listing: () => runRecordStores.listing(), has: (name) => runRecordStores.has(name), selected: (config) => (runRecordStores.has(config.memory.store) ? config.memory.store : "file") },
    { listing: () => trainers.listing(), has: (name) => trainers.has(name), selected: (config) => config.training.trainer },
  ];
}

export function registryReports({ config, registries = builtInRegistries() }: { config: CouncilConfig | Error; registries?: DoctorRegistry[] }): RegistryReport[] {
  return registries.map((registry) => ({ ...registry.listing(), selected: config instanceof Error ? undefined : registry.selected(config) }));
}

/** `adapterHost, dispose, servingTarget=in-process`: true flags by name, other values as key=value, false flags left out. */
export function formatCapabilities(capabilities: Record<string, unknown>): string {
  return Object.entries(capabilities)
    .filter(([, value]) => value !== false)
    .map(([key, value]) => (value === true ? key : `${key}=${String(value)}`))
    .join(", ");
}

/** One required check per registry: the configured name is registered. The detail lists every registered name with its capabilities. */
export function registryProbes({ config, registries = builtInRegistries() }: { config: CouncilConfig | Error; registries?: DoctorRegistry[] }): DoctorProbe[] {
  return registries.map((registry) => {
    const listing = registry.listing();
    return {
      name: listing.kind,
      required: true,
      run: async () => {
        const registered = listing.entries.map((entry) => `${entry.name} [${formatCapabilities(entry.capabilities)}]`).join("; ");
        if (config instanceof Error) return { ok: true, detail: `registered: ${registered}` };
        const selected = registry.selected(config);
        if (registry.has(selected)) return { ok: true, detail: `${selected} selected (${listing.configKey}); registered: ${registered}` };
        return { ok: false, detail: `"${selected}" is not registered (${listing.configKey}); registered: ${registered}`, fix: `set ${listing.configKey} to one of: ${listing.entries.map((entry) => entry.name).join(", ")}` };
      },
    };
  });
}
