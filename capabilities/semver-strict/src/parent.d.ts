// Types of the parent's interface as this source imports it (generated from acme/semver@1.0.0's published functions).
declare module "glassbox:semver/ranges@1.0.0" {
  export function satisfies(version: string, range: string): boolean;
  export function maxSatisfying(versions: Array<string>, range: string): string | undefined;
  export function minSatisfying(versions: Array<string>, range: string): string | undefined;
  export function compare(a: string, b: string): unknown;
  export function valid(version: string): string | undefined;
  export function clean(version: string): string | undefined;
  export function coerce(text: string): string | undefined;
  export function parse(version: string): unknown;
  export function sort(versions: Array<string>, descending: boolean): Array<string>;
  export function validRange(range: string): string | undefined;
  export function intersects(a: string, b: string): boolean;
  export function increment(version: string, kind: unknown, prereleaseId: string | undefined): string;
}
