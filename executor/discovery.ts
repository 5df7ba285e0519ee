/**
 * What the executor tells discovery clients about the functions it serves: each version's documented
 * interface (its WIT with doc comments) and test vectors, read from the uploaded blobs once per
 * version (published versions are immutable), the `bazaar` extension of a 402 challenge, and the MCP
 * tools of the remote MCP endpoint. Everything here is derived from public blobs: nothing is secret.
 */
import type { Logger } from "pino";
import { bazaarExtensionFor } from "../sdk/bazaar.ts";
import { priceLabel } from "../sdk/capability-spec.ts";
import { capabilityTool, mcpToolName, mcpVersionedToolName, type CapabilityToolDefinition } from "../sdk/mcp-tools.ts";
import { newestVersion } from "../sdk/semver.ts";
import { parseTestVectors, type TestVectors } from "../sdk/test-vectors.ts";
import { documentInterface, type DocumentedFunction, type InterfaceDocumentation } from "../sdk/wit.ts";
import type { BlobStore } from "./blobs.ts";
import type { RegistryView, VersionRecord } from "./chain.ts";
import type { ComponentHost } from "./host.ts";

export interface VersionDocs {
  docs: InterfaceDocumentation;
  tests?: TestVectors;
}

/** One remote MCP tool: a function of a served version. */
export interface ServedTool {
  version: VersionRecord;
  fn: DocumentedFunction;
  /** The MCP tool list entry (a paid tool has no outputSchema). */
  definition: Omit<CapabilityToolDefinition, "outputSchema"> & { outputSchema?: CapabilityToolDefinition["outputSchema"] };
}

export class Discovery {
  private readonly cache = new Map<string, Promise<VersionDocs | undefined>>();

  constructor(
    private readonly o: {
      registry: RegistryView;
      host: ComponentHost;
      blobs: BlobStore;
      log: Logger;
    },
  ) {}

  /** The documented interface and tests of `version`, or undefined when its WIT or manifest is not usable here. */
  docsOf(version: VersionRecord): Promise<VersionDocs | undefined> {
    const key = version.versionId.toLowerCase();
    let docs = this.cache.get(key);
    if (!docs) {
      docs = this.load(version);
      this.cache.set(key, docs);
      // An absent WIT may be uploaded later: only a found one is cached for good.
      void docs.then((found) => (found ? undefined : this.cache.delete(key)));
    }
    return docs;
  }

  /** The `extensions` of a 402 challenge for `fn` of `version`: the bazaar entry naming its remote tool. */
  async extensionsFor(version: VersionRecord, functionName: string): Promise<Record<string, unknown> | undefined> {
    const found = await this.docsOf(version);
    const fn = found?.docs.functions.find((f) => f.name === functionName);
    if (!found || !fn) return undefined;
    const description = version.manifest?.description ?? null;
    return bazaarExtensionFor({ name: version.name, version: version.version, description }, fn, {
      docs: found.docs,
      ...(found.tests ? { tests: found.tests } : {}),
      toolName: mcpVersionedToolName(version.name, version.version, fn.name),
    });
  }

  /**
   * The remote MCP tools: every function of every live version prepared here, under its versioned
   * name, and the newest served version of each package also under the package-level name (the one
   * `glassbox mcp` uses). A paid tool declares no outputSchema: its unpaid answer is the
   * PaymentRequired, which MCP clients would otherwise check against that schema and reject.
   */
  async tools(): Promise<Map<string, ServedTool>> {
    const served = this.o.registry.liveVersions().filter((v) => this.o.host.isReady(v.hashes));
    const newest = new Map<string, string>();
    for (const v of served) {
      const current = newest.get(v.name);
      newest.set(v.name, current ? newestVersion([current, v.version]) ?? current : v.version);
    }
    const tools = new Map<string, ServedTool>();
    for (const version of served) {
      const found = await this.docsOf(version);
      if (!found) continue;
      const pkg = { name: version.name, version: version.version, priceLabel: priceLabel(version) };
      for (const fn of found.docs.functions) {
        const { outputSchema, ...shape } = capabilityTool(pkg, fn, found.docs);
        const names = [mcpVersionedToolName(version.name, version.version, fn.name)];
        if (newest.get(version.name) === version.version) names.unshift(mcpToolName(version.name, fn.name));
        for (const name of names) {
          tools.set(name, { version, fn, definition: { ...shape, name, ...(version.accessMode === "free" ? { outputSchema } : {}) } });
        }
      }
    }
    return tools;
  }

  private async load(version: VersionRecord): Promise<VersionDocs | undefined> {
    const manifest = version.manifest;
    if (!manifest) return undefined;
    const wit = await this.o.blobs.get(version.hashes.witHash);
    if (!wit) return undefined;
    try {
      const docs = documentInterface(new TextDecoder().decode(wit), manifest.wit.world, manifest.wit.interface);
      const testsBytes = await this.o.blobs.get(version.hashes.testsHash);
      let tests: TestVectors | undefined;
      if (testsBytes) {
        try {
          tests = parseTestVectors(new TextDecoder().decode(testsBytes));
        } catch (error) {
          this.o.log.warn({ version: `${version.name}@${version.version}`, err: (error as Error).message }, "test vectors unreadable: no example in discovery");
        }
      }
      return { docs, ...(tests ? { tests } : {}) };
    } catch (error) {
      this.o.log.warn({ version: `${version.name}@${version.version}`, err: (error as Error).message }, "WIT unreadable: no discovery metadata");
      return undefined;
    }
  }
}
