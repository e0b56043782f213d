export { loadConfig, configSchema, DEFAULT_SHARED_ADAPTER_MAX_BYTES, dataPaths, editorCommand, envKeyFor, modelPath, ENV_KEYS, PROJECT_ROOT, SEEDLING_PATH, NATIVE_BUILD_DIR, type CouncilConfig, type LoadConfigOptions } from "./config.js";
export { CouncilError, ERROR_CODES, isCouncilError, ok, fail, type CouncilErrorCode, type Result } from "./errors.js";
export { createLogger, silentLogger, type Logger } from "./logger.js";
export { createMetrics, Registry, type CouncilMetrics } from "./metrics.js";
export { safeParseJson } from "./parse-json.js";
export { configTable, configurationDoc, withConfigTable, configDocRows, configLeafPaths, INTERNAL_CONFIG_KEYS, CONFIG_TABLE_START, CONFIG_TABLE_END, type ConfigDocRow } from "./config-docs.js";
export { BackendRegistry, defineBackend, type Backend, type BackendDefinition, type RegistryListing } from "./backend-registry.js";
