// The imported interface of acme/slug (glassbox:slug/slug@1.0.0), as this source calls it.
declare module "glassbox:slug/slug@1.0.0" {
  export function slugify(text: string): string;
  export function unique(texts: string[]): string[];
}
