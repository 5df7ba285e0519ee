// acme/semver: the `ranges` interface of wit/world.wit, computed by the npm `semver` package.
import semver from "semver";

type Ordering = "less" | "equal" | "greater";
type ReleaseKind = "major" | "premajor" | "minor" | "preminor" | "patch" | "prepatch" | "prerelease";

interface VersionParts {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
  build: string[];
}

const RELEASE_KINDS: readonly ReleaseKind[] = ["major", "premajor", "minor", "preminor", "patch", "prepatch", "prerelease"];
// npm's prerelease identifiers: alphanumerics and dashes, no leading zeros on numbers.
const PRERELEASE_ID = /^(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)$/;

// A thrown string is the `err` case of a WIT result.
function requireVersion(version: string, label = "version"): string {
  const valid = semver.valid(version);
  if (valid === null) {
    throw `${label} ${JSON.stringify(version)} is not a valid semver version: expected MAJOR.MINOR.PATCH like "1.2.3" (try clean or coerce for messy input)`;
  }
  return valid;
}

function requireRange(range: string, label = "range"): string {
  const valid = semver.validRange(range);
  if (valid === null) {
    throw `${label} ${JSON.stringify(range)} is not a valid semver range: use npm syntax like "^1.2.0", "~1.2", ">=1.0.0 <2.0.0" or "1.x || 2.x"`;
  }
  return valid;
}

function requireVersions(versions: string[]): void {
  versions.forEach((v, i) => requireVersion(v, `versions[${i}]`));
}

export const ranges = {
  satisfies(version: string, range: string): boolean {
    requireVersion(version);
    requireRange(range);
    return semver.satisfies(version, range);
  },

  maxSatisfying(versions: string[], range: string): string | null {
    requireVersions(versions);
    requireRange(range);
    return semver.maxSatisfying(versions, range);
  },

  minSatisfying(versions: string[], range: string): string | null {
    requireVersions(versions);
    requireRange(range);
    return semver.minSatisfying(versions, range);
  },

  compare(a: string, b: string): Ordering {
    requireVersion(a, "a");
    requireVersion(b, "b");
    const order = semver.compare(a, b);
    return order < 0 ? "less" : order > 0 ? "greater" : "equal";
  },

  valid(version: string): string | null {
    return semver.valid(version);
  },

  clean(version: string): string | null {
    return semver.clean(version);
  },

  coerce(text: string): string | null {
    return semver.coerce(text)?.version ?? null;
  },

  parse(version: string): VersionParts {
    requireVersion(version);
    const parsed = semver.parse(version); // the original: valid() drops build metadata
    if (parsed === null) throw `version ${JSON.stringify(version)} could not be parsed`;
    return {
      major: parsed.major,
      minor: parsed.minor,
      patch: parsed.patch,
      prerelease: parsed.prerelease.map(String),
      build: [...parsed.build],
    };
  },

  sort(versions: string[], descending: boolean): string[] {
    requireVersions(versions);
    const sign = descending ? -1 : 1;
    return [...versions].sort((a, b) => sign * semver.compare(a, b));
  },

  validRange(range: string): string | null {
    return semver.validRange(range);
  },

  intersects(a: string, b: string): boolean {
    requireRange(a, "a");
    requireRange(b, "b");
    return semver.intersects(a, b);
  },

  increment(version: string, kind: ReleaseKind, prereleaseId: string | null | undefined): string {
    requireVersion(version);
    if (!RELEASE_KINDS.includes(kind)) throw `kind ${JSON.stringify(kind)} is not one of ${RELEASE_KINDS.join(", ")}`;
    if (prereleaseId !== null && prereleaseId !== undefined && !PRERELEASE_ID.test(prereleaseId)) {
      throw `prerelease-id ${JSON.stringify(prereleaseId)} is not a valid prerelease identifier: use letters, digits and "-" (e.g. "beta", "rc")`;
    }
    const next = semver.inc(version, kind, prereleaseId ?? undefined);
    if (next === null) throw `cannot increment ${JSON.stringify(version)} by ${kind}`;
    return next;
  },
};
