/**
 * Host side of a component's imports: nothing ambient.
 * - Clocks and randomness are deterministic stubs unless granted (then the real preview2-shim).
 * - Everything else (filesystem, sockets, http, cli...) is denied unless granted: any call
 *   throws CapabilityDeniedError naming the interface and function.
 * Import keys are UNversioned (`wasi:clocks/wall-clock`): the jco instantiation glue ignores
 * versioned keys.
 */
import { CapabilityDeniedError } from "./errors.ts";

type HostInterface = Record<string, unknown>;

export function unversionedName(name: string): string {
  const at = name.indexOf("@");
  return at < 0 ? name : name.slice(0, at);
}

function covers(pattern: string, name: string): boolean {
  const wanted = unversionedName(pattern);
  return wanted.endsWith("*") ? name.startsWith(wanted.slice(0, -1)) : wanted === name;
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

let shim: Record<string, Record<string, HostInterface>> | undefined;

async function realImplementation(name: string): Promise<HostInterface | undefined> {
  shim ??= (await import("@bytecodealliance/preview2-shim")) as unknown as Record<string, Record<string, HostInterface>>;
  const match = /^wasi:([a-z-]+)\/([a-z-]+)$/.exec(name);
  if (!match) return undefined;
  const pkg = shim[match[1]!];
  const iface = match[2]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return pkg?.[iface];
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
    const name = unversionedName(versioned);
    if (grants.some((g) => covers(g, name))) {
      imports[name] = (await realImplementation(name)) ?? denied(name, onDenied);
    } else {
      imports[name] = deterministicStub(name, onDenied) ?? denied(name, onDenied);
    }
  }
  return imports;
}
