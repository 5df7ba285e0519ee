// acme/text-stats: the `text` interface of wit/world.wit. No dependencies: plain Unicode regexes.

type Token =
  | { tag: "word"; val: string }
  | { tag: "number"; val: number }
  | { tag: "whitespace"; val: number }
  | { tag: "symbol"; val: string };

type CaseStyle = "lower" | "upper" | "title" | "sentence" | "camel" | "pascal" | "snake" | "kebab" | "constant";

interface Stats {
  characters: number;
  charactersNoSpaces: number;
  words: number;
  sentences: number;
  paragraphs: number;
  readingTimeSeconds: number;
  longestWord: string | null;
}

interface SlugOptions {
  separator?: string | null;
  maxLength?: number | null;
  keepCase: boolean;
}

const DEFAULT_WORDS_PER_MINUTE = 238;
const MAX_WORDS_PER_MINUTE = 2000;
const SLUG_SEPARATORS = ["-", "_", ".", "~"];
const CASE_STYLES: readonly CaseStyle[] = ["lower", "upper", "title", "sentence", "camel", "pascal", "snake", "kebab", "constant"];

// One alternative per token kind, tried in this order at each position.
const TOKEN = /(\s+)|(\d+(?:\.\d+)?(?![\p{L}\p{M}\d]))|([\p{L}\p{M}\p{N}]+(?:['’-][\p{L}\p{M}\p{N}]+)*)|([^])/suy;
const WORD = /[\p{L}\p{M}\p{N}]+(?:['’-][\p{L}\p{M}\p{N}]+)*/gu;
// Letters with no decomposition that still have an accepted ASCII spelling.
const FOLDS: Record<string, string> = { ß: "ss", æ: "ae", Æ: "AE", ø: "o", Ø: "O", œ: "oe", Œ: "OE", đ: "d", Đ: "D", ł: "l", Ł: "L", þ: "th", Þ: "TH", ð: "d", Ð: "D", ı: "i" };

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m !== null; m = TOKEN.exec(text)) {
    if (m[1] !== undefined) tokens.push({ tag: "whitespace", val: codePoints(m[1]) });
    else if (m[2] !== undefined) tokens.push({ tag: "number", val: Number(m[2]) });
    else if (m[3] !== undefined) tokens.push({ tag: "word", val: m[3] });
    else {
      // A lone surrogate half would not be a valid `char`: take the whole code point.
      const char = String.fromCodePoint(text.codePointAt(m.index)!);
      tokens.push({ tag: "symbol", val: char });
      TOKEN.lastIndex = m.index + char.length;
    }
    if (TOKEN.lastIndex >= text.length) break;
  }
  return tokens;
}

function words(text: string): string[] {
  return text.match(WORD) ?? [];
}

function countSentences(text: string): number {
  return text.split(/[.!?…。！？]+(?=\s|$|["'”’)\]])/u).filter((part) => /[\p{L}\p{N}]/u.test(part)).length;
}

function countParagraphs(text: string): number {
  return text.split(/\n[ \t\r]*\n/).filter((block) => /\S/.test(block)).length;
}

/** Splits identifiers and phrases into words, also at case changes: "XMLHttpRequest" -> XML, Http, Request. */
function identifierWords(text: string): string[] {
  return words(text.replace(/['’]/g, ""))
    .flatMap((w) => w.split("-"))
    .flatMap((w) => w.replace(/(\p{Ll}|\p{N})(\p{Lu})/gu, "$1 $2").replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, "$1 $2").split(" "))
    .filter((w) => w.length > 0);
}

function capitalize(word: string): string {
  const first = String.fromCodePoint(word.codePointAt(0)!);
  return first.toUpperCase() + word.slice(first.length).toLowerCase();
}

function foldToAscii(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .replace(/[ßæÆøØœŒđĐłŁþÞðÐı]/g, (c) => FOLDS[c] ?? c);
}

export const text = {
  analyze(input: string, wordsPerMinute: number | null | undefined): Stats {
    const wpm = wordsPerMinute ?? DEFAULT_WORDS_PER_MINUTE;
    if (wpm < 1 || wpm > MAX_WORDS_PER_MINUTE) {
      throw `words-per-minute must be between 1 and ${MAX_WORDS_PER_MINUTE} (leave it out for ${DEFAULT_WORDS_PER_MINUTE}), got ${wpm}`;
    }
    const all = words(input);
    let longestWord: string | null = null;
    for (const w of all) if (longestWord === null || codePoints(w) > codePoints(longestWord)) longestWord = w;
    return {
      characters: codePoints(input),
      charactersNoSpaces: codePoints(input.replace(/\s+/g, "")),
      words: all.length,
      sentences: countSentences(input),
      paragraphs: countParagraphs(input),
      readingTimeSeconds: Math.ceil((all.length * 60) / wpm),
      longestWord,
    };
  },

  topWords(input: string, limit: number, stopwords: string[]): { word: string; count: number }[] {
    const skip = new Set(stopwords.map((w) => w.toLowerCase()));
    const counts = new Map<string, number>();
    for (const w of words(input)) {
      const key = w.toLowerCase();
      if (/^\d+$/.test(key) || skip.has(key)) continue;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts.entries()]
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit)
      .map(([word, count]) => ({ word, count }));
  },

  tokenize,

  slugify(input: string, options: SlugOptions): string {
    const separator = options.separator ?? "-";
    if (!SLUG_SEPARATORS.includes(separator)) {
      throw `separator must be one of ${SLUG_SEPARATORS.map((s) => JSON.stringify(s)).join(", ")} (URL-safe), got ${JSON.stringify(separator)}`;
    }
    const maxLength = options.maxLength ?? null;
    if (maxLength !== null && maxLength < 1) throw "max-length must be at least 1 (leave it out for no limit)";
    const folded = foldToAscii(input);
    const parts = (options.keepCase ? folded : folded.toLowerCase()).match(/[\p{L}\p{N}]+/gu) ?? [];
    if (parts.length === 0) throw `text ${JSON.stringify(input.slice(0, 40))} has no letters or digits to make a slug from`;
    const slug = [...parts.join(separator)]; // code points, so a cut never splits a character
    if (maxLength === null || slug.length <= maxLength) return slug.join("");
    // Prefer ending at a word boundary; a single overlong word is cut as is.
    const boundary = slug[maxLength] === separator ? maxLength : slug.lastIndexOf(separator, maxLength - 1);
    return slug.slice(0, boundary > 0 ? boundary : maxLength).join("");
  },

  changeCase(input: string, style: CaseStyle): string {
    switch (style) {
      case "lower":
        return input.toLowerCase();
      case "upper":
        return input.toUpperCase();
      case "title":
        return input.replace(WORD, (w) => w.split("-").map(capitalize).join("-"));
      case "sentence":
        return input.toLowerCase().replace(/(^|[.!?…]\s+)(\P{L}*)(\p{L})/gu, (_, lead: string, gap: string, letter: string) => lead + gap + letter.toUpperCase());
      case "camel":
      case "pascal": {
        const parts = identifierWords(input).map(capitalize);
        const joined = parts.join("");
        if (style === "pascal" || parts.length === 0) return joined;
        return parts[0]!.toLowerCase() + parts.slice(1).join("");
      }
      case "snake":
        return identifierWords(input).join("_").toLowerCase();
      case "kebab":
        return identifierWords(input).join("-").toLowerCase();
      case "constant":
        return identifierWords(input).join("_").toUpperCase();
      default:
        throw new Error(`unknown case style ${JSON.stringify(style)}; expected one of ${CASE_STYLES.join(", ")}`);
    }
  },
};
