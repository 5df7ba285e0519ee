// The subset of the npm `semver` API the SDK uses to resolve version ranges (the package ships no types).
declare module "semver" {
  const semver: {
    valid(version: string): string | null;
    validRange(range: string): string | null;
    maxSatisfying(versions: string[], range: string): string | null;
  };
  export default semver;
}
