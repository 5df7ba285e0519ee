// acme/csv: the `csv` interface of wit/world.wit. A strict RFC 4180 parser, no dependencies.

interface Options {
  delimiter?: string | null;
  header: boolean;
  trim: boolean;
  inferTypes: boolean;
}

type Cell = { tag: "empty" } | { tag: "text"; val: string } | { tag: "number"; val: number } | { tag: "boolean"; val: boolean };

interface ParseError {
  line: number;
  column: number;
  message: string;
}

const CANDIDATE_DELIMITERS = [",", ";", "\t", "|"];
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const DETECT_SAMPLE_LINES = 10;

// A thrown ParseError is the `err` case of parse and to-json.
function fail(line: number, column: number, message: string): never {
  throw { line, column, message } satisfies ParseError;
}

function delimiterOf(delimiter: string | null | undefined): string {
  const d = delimiter ?? ",";
  if (d === '"' || d === "\r" || d === "\n") {
    fail(0, 0, `delimiter ${JSON.stringify(d)} cannot separate fields (it is a quote or a line break): use ",", ";", "\\t" or "|"`);
  }
  return d;
}

/** Rows of raw fields; `quoted` marks fields that were quoted (kept verbatim by trim and type inference). */
function parseRows(text: string, delimiter: string, trim: boolean): { fields: string[]; quoted: boolean[]; line: number }[] {
  const rows: { fields: string[]; quoted: boolean[]; line: number }[] = [];
  let i = text.startsWith("\uFEFF") ? 1 : 0;
  let line = 1;
  let lineStart = i;
  const column = (at: number) => [...text.slice(lineStart, at)].length + 1;
  let fields: string[] = [];
  let quoted: boolean[] = [];
  let rowLine = 1;
  const endRow = () => {
    const blank = fields.length === 1 && fields[0] === "" && !quoted[0];
    if (!blank) rows.push({ fields, quoted, line: rowLine });
    fields = [];
    quoted = [];
  };
  while (i <= text.length) {
    if (fields.length === 0) rowLine = line;
    let field = "";
    let wasQuoted = false;
    let j = i;
    while (j < text.length && trim && (text[j] === " " || text[j] === "\t") && text[j] !== delimiter) j++;
    if (text[j] === '"') {
      wasQuoted = true;
      const openLine = line;
      const openColumn = column(j);
      j++;
      for (;;) {
        if (j >= text.length) fail(openLine, openColumn, "quoted field is never closed: add the closing quote (a quote inside a field is written twice: \"\")");
        const c = text[j]!;
        if (c === '"') {
          if (text[j + 1] === '"') {
            field += '"';
            j += 2;
            continue;
          }
          j++;
          break;
        }
        if (c === "\n") {
          line++;
          lineStart = j + 1;
        }
        field += c;
        j++;
      }
      while (j < text.length && trim && (text[j] === " " || text[j] === "\t") && text[j] !== delimiter) j++;
      const next = text[j];
      if (next !== undefined && next !== delimiter && next !== "\n" && next !== "\r") {
        fail(line, column(j), `unexpected ${JSON.stringify(next)} after a closing quote: a field is either wholly quoted or not at all`);
      }
    } else {
      j = i;
      while (j < text.length && text[j] !== delimiter && text[j] !== "\n" && text[j] !== "\r") {
        if (text[j] === '"') fail(line, column(j), 'quote inside an unquoted field: quote the whole field and write the quote twice ("a ""b"" c")');
        j++;
      }
      field = text.slice(i, j);
      if (trim) field = field.replace(/^[ \t]+|[ \t]+$/g, "");
    }
    fields.push(field);
    quoted.push(wasQuoted);
    if (j >= text.length) {
      endRow();
      break;
    }
    if (text[j] === delimiter) {
      i = j + 1;
      continue;
    }
    // Line end: \n, \r\n or a lone \r.
    j += text[j] === "\r" && text[j + 1] === "\n" ? 2 : 1;
    line++;
    lineStart = j;
    endRow();
    if (j >= text.length) break;
    i = j;
  }
  return rows;
}

function toCell(raw: string, wasQuoted: boolean, inferTypes: boolean): Cell {
  if (!inferTypes || wasQuoted) return raw === "" && inferTypes ? { tag: "empty" } : { tag: "text", val: raw };
  if (raw === "") return { tag: "empty" };
  if (NUMBER.test(raw)) return { tag: "number", val: Number(raw) };
  const lower = raw.toLowerCase();
  if (lower === "true" || lower === "false") return { tag: "boolean", val: lower === "true" };
  return { tag: "text", val: raw };
}

function parseTable(text: string, options: Options): { headers: string[]; rows: Cell[][] } {
  const delimiter = delimiterOf(options.delimiter);
  const raw = parseRows(text, delimiter, options.trim);
  const width = raw[0]?.fields.length ?? 0;
  for (const row of raw) {
    if (row.fields.length !== width) {
      fail(row.line, 1, `row has ${row.fields.length} field(s) but ${options.header ? "the header" : "the first row"} has ${width}: check for a missing or extra ${JSON.stringify(delimiter)} or an unquoted field containing it`);
    }
  }
  const body = options.header ? raw.slice(1) : raw;
  return {
    headers: options.header ? (raw[0]?.fields ?? []) : [],
    rows: body.map((row) => row.fields.map((f, k) => toCell(f, row.quoted[k]!, options.inferTypes))),
  };
}

function cellToJson(cell: Cell): string | number | boolean | null {
  return cell.tag === "empty" ? null : cell.val;
}

function needsQuotes(field: string, delimiter: string): boolean {
  return field.includes(delimiter) || /["\r\n]/.test(field) || /^[ \t]|[ \t]$/.test(field);
}

export const csv = {
  parse: parseTable,

  toJson(text: string, options: Options): string {
    const table = parseTable(text, options);
    if (!options.header) return JSON.stringify(table.rows.map((row) => row.map(cellToJson)));
    const seen = new Map<string, number>();
    table.headers.forEach((name, k) => {
      if (name === "") fail(1, 1, `header column ${k + 1} is empty: every column needs a name for JSON keys (or set header to false)`);
      const first = seen.get(name);
      if (first !== undefined) fail(1, 1, `header ${JSON.stringify(name)} appears twice (columns ${first + 1} and ${k + 1}): JSON keys must be unique`);
      seen.set(name, k);
    });
    return JSON.stringify(table.rows.map((row) => Object.fromEntries(table.headers.map((name, k) => [name, cellToJson(row[k]!)]))));
  },

  detectDelimiter(sample: string): string | null {
    const lines = sample.split(/\r\n|\n|\r/).filter((l) => l.trim() !== "");
    // The last line of a longer sample may be cut off mid-row: leave it out of the vote.
    const head = lines.slice(0, Math.min(lines.length > 2 ? lines.length - 1 : lines.length, DETECT_SAMPLE_LINES)).join("\n");
    let best: { delimiter: string; width: number } | null = null;
    for (const delimiter of CANDIDATE_DELIMITERS) {
      try {
        const rows = parseRows(head, delimiter, false);
        const width = rows[0]?.fields.length ?? 0;
        if (width > 1 && rows.every((r) => r.fields.length === width) && (best === null || width > best.width)) best = { delimiter, width };
      } catch {
        // not this delimiter
      }
    }
    return best?.delimiter ?? null;
  },

  stringify(rows: string[][], delimiter: string | null | undefined): string {
    const d = delimiter ?? ",";
    if (d === '"' || d === "\r" || d === "\n") throw `delimiter ${JSON.stringify(d)} cannot separate fields (it is a quote or a line break): use ",", ";", "\\t" or "|"`;
    return rows.map((row) => row.map((f) => (needsQuotes(f, d) ? `"${f.replace(/"/g, '""')}"` : f)).join(d) + "\r\n").join("");
  },
};
