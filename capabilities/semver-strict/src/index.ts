// forker/semver-strict wraps acme/semver@1.0.0 (scaffolded by `glassbox fork --wrap`): it imports the
// parent's `ranges` interface and exports the same one. Every function but `valid` delegates to the
// parent; each delegated call pays acme/semver its price as a dependency of the call, and this
// fork's own price (and its upstream share) applies to what it adds (README: "Royalties of wrapping
// forks").
import * as parent from "glassbox:semver/ranges@1.0.0";

export const ranges = {
  satisfies: parent.satisfies,
  maxSatisfying: parent.maxSatisfying,
  minSatisfying: parent.minSatisfying,
  compare: parent.compare,
  // The one change: strict. A leading "v" or "=" (or surrounding spaces) is not a version here;
  // the parent normalizes them. Anything else is still the parent's judgement.
  valid: (version: string): string | undefined => (/^[\s=v]/i.test(version) || /\s$/.test(version) ? undefined : parent.valid(version)),
  clean: parent.clean,
  coerce: parent.coerce,
  parse: parent.parse,
  sort: parent.sort,
  validRange: parent.validRange,
  intersects: parent.intersects,
  increment: parent.increment,
};
