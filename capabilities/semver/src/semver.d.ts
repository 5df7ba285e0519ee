// The subset of the npm `semver` API this capability uses (the package ships no types).
declare module "semver" {
  interface SemVer {
    major: number;
    minor: number;
    patch: number;
    prerelease: ReadonlyArray<string | number>;
    build: ReadonlyArray<string>;
    version: string;
  }
  type ReleaseType = "major" | "premajor" | "minor" | "preminor" | "patch" | "prepatch" | "prerelease";
  const semver: {
    valid(version: string): string | null;
    clean(version: string): string | null;
    coerce(text: string): SemVer | null;
    parse(version: string): SemVer | null;
    validRange(range: string): string | null;
    satisfies(version: string, range: string): boolean;
    maxSatisfying(versions: string[], range: string): string | null;
    minSatisfying(versions: string[], range: string): string | null;
    compare(a: string, b: string): -1 | 0 | 1;
    intersects(a: string, b: string): boolean;
    inc(version: string, release: ReleaseType, identifier?: string): string | null;
  };
  export default semver;
}
