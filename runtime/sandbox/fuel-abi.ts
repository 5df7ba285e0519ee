/** Where instrumented core modules import their fuel counter from (a mutable i64 global). */
export const FUEL_IMPORT_MODULE = "glassbox";
export const FUEL_IMPORT_NAME = "fuel";
