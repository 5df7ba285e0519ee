import { indexerScenario } from "./scenario.ts";

// Needs the PostgreSQL at 127.0.0.1:5432 (database `test`, trust auth) or TEST_DATABASE_URL.
indexerScenario("postgres");
