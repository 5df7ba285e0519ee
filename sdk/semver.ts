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
