/**
 * The capability policy, in one place: nothing ambient.
 * - At upload (verify): a component may import an interface only if its manifest requests it AND
 *   the operator allows it (checkImports).
 * - At run time: the requested capabilities the operator allows are granted (grantedCapabilities)
 *   and bound to the real preview2-shim; clocks and randomness not granted are deterministic stubs;
 *   everything else (filesystem, sockets, http, cli...) throws CapabilityDeniedError naming the
 *   interface and function (hostImports).
 * Patterns: `wasi:clocks/wall-clock` (one interface), `wasi:io/*` (a package), `wasi:*` (a
 * namespace); versions are ignored. Import keys handed to the glue are UNversioned
 * (`wasi:clocks/wall-clock`): the jco instantiation glue ignores versioned keys.
 *
 * Loaded by worker threads through Node's type stripping: no TypeScript-only syntax here.
 */
import { CapabilityDeniedError, UndeclaredImportError } from "../errors.ts";

export type HostInterface = Record<string, unknown>;

/** `wasi:clocks/wall-clock@0.2.3` -> `wasi:clocks/wall-clock`. */
export function unversioned(name: string): string {
  const at = name.indexOf("@");
  return at < 0 ? name : name.slice(0, at);
}

/** Whether a capability pattern (`wasi:clocks/wall-clock`, `wasi:io/*`, versioned or not) covers an import. */
export function capabilityCovers(pattern: string, importName: string): boolean {
  const target = unversioned(importName);
  const wanted = unversioned(pattern);
  return wanted.endsWith("*") ? target.startsWith(wanted.slice(0, -1)) : wanted === target;
}

/**
 * Upload check: every import must be requested by the manifest AND allowed by the operator, or be
 * the interface of a declared dependency (composition: `dependencyInterfaces`, versions ignored),
 * which the executor links at run time.
 */
export function checkImports(imports: string[], requested: string[], allowed: string[], dependencyInterfaces: string[] = []): void {
  const linked = new Set(dependencyInterfaces.map(unversioned));
  const undeclared = imports.filter(
    (name) => !linked.has(unversioned(name)) && !(requested.some((p) => capabilityCovers(p, name)) && allowed.some((p) => capabilityCovers(p, name))),
  );
  if (undeclared.length > 0) throw new UndeclaredImportError(undeclared, requested, allowed, dependencyInterfaces);
}

/** What runs for real: the manifest's requested capabilities that an operator pattern covers. */
export function grantedCapabilities(requested: string[], allowed: string[]): string[] {
  return requested.filter((capability) => allowed.some((pattern) => capabilityCovers(pattern, capability)));
}

/** A fixed-seed xorshift64* stream: the same bytes for every fresh instance. */
function deterministicRandom(): { bytes(n: number): Uint8Array; u64(): bigint } {
  let state = 0x9e3779b97f4a7c15n;
  const next = (): bigint => {
    state ^= state >> 12n;
    state ^= (state << 25n) & 0xffffffffffffffffn;
    state ^= state >> 27n;
    return (state * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn;
  };
  return {
    bytes(n: number): Uint8Array {
      const out = new Uint8Array(Number(n));
      for (let i = 0; i < out.length; i += 8) {
        let word = next();
        for (let j = i; j < Math.min(i + 8, out.length); j++) {
          out[j] = Number(word & 0xffn);
          word >>= 8n;
        }
      }
      return out;
    },
    u64: next,
  };
}

type DeniedListener = (error: CapabilityDeniedError) => void;

function deterministicStub(name: string, onDenied: DeniedListener): HostInterface | undefined {
  switch (name) {
    case "wasi:clocks/wall-clock":
      return { now: () => ({ seconds: 0n, nanoseconds: 0 }), resolution: () => ({ seconds: 0n, nanoseconds: 1 }) };
    case "wasi:clocks/monotonic-clock":
      return denied(name, onDenied, { now: () => 0n, resolution: () => 1n });
    case "wasi:random/random":
    case "wasi:random/insecure": {
      const random = deterministicRandom();
      return { getRandomBytes: random.bytes, getRandomU64: random.u64, getInsecureRandomBytes: random.bytes, getInsecureRandomU64: random.u64 };
    }
    case "wasi:random/insecure-seed":
      return { insecureSeed: () => [0n, 0n] };
    default:
      return undefined;
  }
}

/** Every property is a function that throws CapabilityDeniedError (classes included, for resources). */
function denied(capability: string, onDenied: DeniedListener, allowed: HostInterface = {}): HostInterface {
  return new Proxy(allowed, {
    get(target, property) {
      if (typeof property !== "string") return undefined;
      if (property in target) return target[property];
      const deny = function (): never {
        const error = new CapabilityDeniedError(capability, property);
        // The glue may turn a thrown host error into a guest-visible value: remember it too.
        onDenied(error);
        throw error;
      };
      return deny;
    },
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

let shim: Record<string, unknown> | undefined;

async function realImplementation(name: string): Promise<HostInterface | undefined> {
  shim ??= { ...(await import("@bytecodealliance/preview2-shim")) };
  const match = /^wasi:([a-z-]+)\/([a-z-]+)$/.exec(name);
  if (!match) return undefined;
  const pkg = shim[match[1]!];
  const iface = isRecord(pkg) ? pkg[match[2]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] : undefined;
  return isRecord(iface) ? iface : undefined;
}

/**
 * Builds the `imports` object for the jco instantiation glue.
 * @param importNames the component's top-level imports (versioned, as in the binary)
 * @param grants capabilities granted for real (patterns like "wasi:clocks/*")
 * @param onDenied told about every denied call, whatever the guest does with the error
 */
export async function hostImports(importNames: string[], grants: string[], onDenied: DeniedListener = () => {}): Promise<Record<string, HostInterface>> {
  const imports: Record<string, HostInterface> = {};
  for (const versioned of importNames) {
    const name = unversioned(versioned);
    if (grants.some((g) => capabilityCovers(g, name))) {
      imports[name] = (await realImplementation(name)) ?? denied(name, onDenied);
    } else {
      imports[name] = deterministicStub(name, onDenied) ?? denied(name, onDenied);
    }
  }
  return imports;
}
