import { indexerScenario } from "./scenario.ts";

indexerScenario("pglite");
