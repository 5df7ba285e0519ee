/**
 * Semver 2.0 precedence (build metadata ignored), for resolving `@latest`:
 * the newest non-yanked version in semver order, prereleases below their release.
 */
export function compareSemver(a: string, b: string): number {
  const [coreA, preA] = splitVersion(a);
  const [coreB, preB] = splitVersion(b);
  for (let i = 0; i < 3; i++) {
    const diff = compareIdentifiers(coreA[i] ?? "0", coreB[i] ?? "0", true);
    if (diff !== 0) return diff;
  }
  if (preA.length === 0 || preB.length === 0) return preB.length - preA.length; // release > prerelease
  for (let i = 0; i < Math.max(preA.length, preB.length); i++) {
    if (preA[i] === undefined) return -1;
    if (preB[i] === undefined) return 1;
    const diff = compareIdentifiers(preA[i]!, preB[i]!, false);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** The greatest version by semver precedence, or undefined for an empty list. */
export function newestVersion(versions: string[]): string | undefined {
  return versions.reduce<string | undefined>((best, v) => (best === undefined || compareSemver(v, best) > 0 ? v : best), undefined);
}

function splitVersion(version: string): [string[], string[]] {
  const withoutBuild = version.split("+")[0] ?? "";
  const dash = withoutBuild.indexOf("-");
  const core = dash === -1 ? withoutBuild : withoutBuild.slice(0, dash);
  const pre = dash === -1 ? "" : withoutBuild.slice(dash + 1);
  return [core.split("."), pre ? pre.split(".") : []];
}

function compareIdentifiers(a: string, b: string, numericOnly: boolean): number {
  const numA = /^\d+$/.test(a);
  const numB = /^\d+$/.test(b);
  if (numericOnly || (numA && numB)) {
    const x = BigInt(numA ? a : "0");
    const y = BigInt(numB ? b : "0");
    return x === y ? 0 : x > y ? 1 : -1;
  }
  if (numA !== numB) return numA ? -1 : 1; // numeric identifiers sort below alphanumeric ones
  return a === b ? 0 : a > b ? 1 : -1;
}

/**
 * npm-style version ranges, the subset dependencies use: comparators (`>=1.2.0`, `<2.0.0`, `=1.0.0`,
 * `1.0.0`), caret (`^1.2.0`), tilde (`~1.2.0`), `*`, conjunction by spaces and `||` alternatives.
 * A prerelease version satisfies a range only when some comparator names that exact prerelease core.
 */
export function isSemverRange(range: string): boolean {
  return range.length <= 128 && parseRange(range) !== undefined;
}

/** Whether `version` satisfies `range` (false for a malformed range). */
export function satisfiesRange(version: string, range: string): boolean {
  const alternatives = parseRange(range);
  if (!alternatives) return false;
  const [core, pre] = splitVersion(version);
  return alternatives.some((comparators) => {
    if (pre.length > 0 && !comparators.some((c) => c.prerelease && c.core === core.join("."))) return false;
    return comparators.every((c) => c.test(version));
  });
}

/** The greatest of `versions` satisfying `range`, or undefined. */
export function newestSatisfying(versions: string[], range: string): string | undefined {
  return newestVersion(versions.filter((v) => satisfiesRange(v, range)));
}

interface Comparator {
  core: string;
  prerelease: boolean;
  test(version: string): boolean;
}

const PLAIN_VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$/;

function parseRange(range: string): Comparator[][] | undefined {
  const alternatives: Comparator[][] = [];
  for (const part of range.trim().split("||")) {
    const tokens = part.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) return undefined;
    const comparators: Comparator[] = [];
    for (const token of tokens) {
      const parsed = parseComparator(token);
      if (!parsed) return undefined;
      comparators.push(...parsed);
    }
    alternatives.push(comparators);
  }
  return alternatives;
}

function parseComparator(token: string): Comparator[] | undefined {
  if (token === "*" || token === "x") return [{ core: "", prerelease: false, test: () => true }];
  const match = /^(\^|~|>=|<=|>|<|=)?(.*)$/.exec(token)!;
  const operator = match[1] ?? "=";
  const version = match[2]!;
  const parts = PLAIN_VERSION.exec(version);
  if (!parts) return undefined;
  const [major, minor, patch] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const core = `${major}.${minor}.${patch}`;
  const prerelease = parts[4] !== undefined;
  const at = (test: (c: number) => boolean): Comparator => ({ core, prerelease, test: (v) => test(compareSemver(v, version)) });
  const below = (upper: string): Comparator => ({ core, prerelease: false, test: (v) => compareSemver(v, upper) < 0 && !isPrereleaseOf(v, upper) });
  switch (operator) {
    case "=":
      return [at((c) => c === 0)];
    case ">":
      return [at((c) => c > 0)];
    case ">=":
      return [at((c) => c >= 0)];
    case "<":
      return [at((c) => c < 0)];
    case "<=":
      return [at((c) => c <= 0)];
    case "~":
      return [at((c) => c >= 0), below(`${major}.${minor + 1}.0`)];
    default: {
      // ^: the leftmost non-zero part is fixed.
      const upper = major > 0 ? `${major + 1}.0.0` : minor > 0 ? `0.${minor + 1}.0` : `0.0.${patch + 1}`;
      return [at((c) => c >= 0), below(upper)];
    }
  }
}

/** `2.0.0-rc.1` is below `2.0.0` by precedence, but `<2.0.0` in a caret range does not mean it. */
function isPrereleaseOf(version: string, upper: string): boolean {
  const [core, pre] = splitVersion(version);
  return pre.length > 0 && core.join(".") === splitVersion(upper)[0].join(".");
}
