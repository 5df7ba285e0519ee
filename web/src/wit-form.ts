/**
 * Forms generated from WIT types, producing the JSON encoding of WIT values the executor takes
 * (runtime/sandbox/values.ts): integers as numbers (64-bit as decimal strings), records as objects
 * keyed by field name, variants as { tag, val }, enums as strings, flags as arrays, options as
 * null or the value, results as { ok } / { error }.
 */
import type { JsonValue } from "../../sdk/test-vectors.ts";
import { formatWitType, unalias, type FunctionSignature, type WitType } from "../../sdk/wit.ts";
import { h, uid } from "./dom.ts";

export class InputError extends Error {
  override name = "InputError";
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

export interface Field {
  element: HTMLElement;
  read(): JsonValue;
  /** Fills the field from a JSON value (e.g. a public test vector); values of another shape are ignored. */
  write(value: JsonValue): void;
}

/** Doc comments of record fields and variant/enum cases, by type name. */
export type MemberDocs = (typeName: string, member: string) => string | undefined;

const INT_RANGES: Record<string, [number, number]> = {
  s8: [-128, 127],
  s16: [-32768, 32767],
  s32: [-2147483648, 2147483647],
  u8: [0, 255],
  u16: [0, 65535],
  u32: [0, 4294967295],
};

function labelled(label: string, type: WitType, control: HTMLElement, hint: string | undefined): HTMLElement {
  const hintId = hint ? uid("hint") : undefined;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h(
    "div",
    { class: "field" },
    h("label", { for: control.id }, label, " ", h("span", { class: "type" }, formatWitType(type))),
    control,
    hint ? h("small", { id: hintId, class: "hint" }, hint) : null,
  );
}

function group(label: string, type: WitType, hint: string | undefined, ...content: HTMLElement[]): HTMLFieldSetElement {
  return h("fieldset", { class: "group" }, h("legend", null, label, " ", h("span", { class: "type" }, formatWitType(type))), hint ? h("small", { class: "hint" }, hint) : null, ...content);
}

const isObject = (value: JsonValue): value is { [key: string]: JsonValue } => typeof value === "object" && value !== null && !Array.isArray(value);

/** A form field for one WIT value. `path` names it in error messages (e.g. `options.heading-ids`). */
export function fieldFor(declared: WitType, label: string, path: string, docs: MemberDocs, hint?: string): Field {
  const type = unalias(declared);
  const id = uid("in");
  switch (type.kind) {
    case "bool": {
      const input = h("input", { type: "checkbox", id });
      return {
        element: h("div", { class: "field checkbox" }, input, h("label", { for: id }, label, " ", h("span", { class: "type" }, "bool")), hint ? h("small", { class: "hint" }, hint) : null),
        read: () => input.checked,
        write: (value) => {
          if (typeof value === "boolean") input.checked = value;
        },
      };
    }
    case "string":
    case "char": {
      const input = type.kind === "string" ? h("textarea", { id, rows: 3, spellcheck: false }) : h("input", { id, type: "text", maxlength: 2, size: 3 });
      return {
        element: labelled(label, declared, input, hint),
        read: () => {
          if (type.kind === "char" && [...input.value].length !== 1) throw new InputError(path, "must be exactly one character");
          return input.value;
        },
        write: (value) => {
          if (typeof value === "string") input.value = value;
        },
      };
    }
    case "s8":
    case "s16":
    case "s32":
    case "u8":
    case "u16":
    case "u32":
    case "s64":
    case "u64": {
      const wide = type.kind === "s64" || type.kind === "u64";
      const [min, max] = INT_RANGES[type.kind] ?? [undefined, undefined];
      const input = h("input", { id, type: wide ? "text" : "number", inputmode: "numeric", step: 1, min, max, required: true });
      return {
        element: labelled(label, declared, input, hint),
        read: () => {
          const text = input.value.trim();
          if (!/^-?\d+$/.test(text)) throw new InputError(path, `must be a whole number (${type.kind})`);
          if (type.kind.startsWith("u") && text.startsWith("-")) throw new InputError(path, `must not be negative (${type.kind})`);
          if (wide) return text.replace(/^(-?)0+(?=\d)/, "$1");
          const value = Number(text);
          if (value < min! || value > max!) throw new InputError(path, `must be from ${min} to ${max} (${type.kind})`);
          return value;
        },
        write: (value) => {
          if (typeof value === "number" || typeof value === "string") input.value = String(value);
        },
      };
    }
    case "f32":
    case "f64": {
      const input = h("input", { id, type: "text", inputmode: "decimal", required: true });
      return {
        element: labelled(label, declared, input, hint),
        read: () => {
          const text = input.value.trim();
          if (text === "NaN" || text === "Infinity" || text === "-Infinity") return text;
          const value = Number(text);
          if (text === "" || !Number.isFinite(value)) throw new InputError(path, `must be a number (${type.kind})`);
          return value;
        },
        write: (value) => {
          if (typeof value === "number" || typeof value === "string") input.value = String(value);
        },
      };
    }
    case "enum": {
      const select = h("select", { id }, type.cases.map((c) => h("option", { value: c }, c)));
      const caseHint = () => docs(type.name, select.value);
      const small = h("small", { class: "hint" }, caseHint() ?? "");
      select.addEventListener("change", () => (small.textContent = caseHint() ?? ""));
      const element = labelled(label, declared, select, hint);
      element.append(small);
      return {
        element,
        read: () => select.value,
        write: (value) => {
          if (typeof value === "string" && type.cases.includes(value)) select.value = value;
          small.textContent = caseHint() ?? "";
        },
      };
    }
    case "flags": {
      const boxes = type.flags.map((flag) => {
        const boxId = uid("flag");
        const box = h("input", { type: "checkbox", id: boxId, value: flag });
        return { flag, box, element: h("div", { class: "field checkbox" }, box, h("label", { for: boxId }, flag), docs(type.name, flag) ? h("small", { class: "hint" }, docs(type.name, flag)) : null) };
      });
      return {
        element: group(label, declared, hint, ...boxes.map((b) => b.element)),
        read: () => boxes.filter((b) => b.box.checked).map((b) => b.flag),
        write: (value) => {
          if (Array.isArray(value)) for (const b of boxes) b.box.checked = value.includes(b.flag);
        },
      };
    }
    case "option": {
      const inner = fieldFor(type.some, `${label} value`, path, docs);
      const someId = uid("some");
      const toggle = h("input", { type: "checkbox", id: someId });
      const body = h("div", { class: "option-body" }, inner.element);
      const sync = () => (body.hidden = !toggle.checked);
      toggle.addEventListener("change", sync);
      sync();
      const nested = unalias(type.some).kind === "option";
      return {
        element: group(label, declared, hint, h("div", { class: "field checkbox" }, toggle, h("label", { for: someId }, `Give ${label} (unchecked: none)`)), body),
        read: () => {
          if (!toggle.checked) return null;
          const value = inner.read();
          return nested ? { some: value } : value;
        },
        write: (value) => {
          toggle.checked = value !== null;
          if (value !== null) inner.write(nested && isObject(value) && "some" in value ? value.some! : value);
          sync();
        },
      };
    }
    case "record": {
      const fields = type.fields.map((f) => ({ name: f.name, field: fieldFor(f.type, f.name, `${path}.${f.name}`, docs, docs(type.name, f.name)) }));
      return {
        element: group(label, declared, hint, ...fields.map((f) => f.field.element)),
        read: () => Object.fromEntries(fields.map((f) => [f.name, f.field.read()])),
        write: (value) => {
          if (isObject(value)) for (const f of fields) if (f.name in value) f.field.write(value[f.name]!);
        },
      };
    }
    case "tuple": {
      const items = type.items.map((item, i) => fieldFor(item, `#${i + 1}`, `${path}[${i}]`, docs));
      return {
        element: group(label, declared, hint, ...items.map((i) => i.element)),
        read: () => items.map((i) => i.read()),
        write: (value) => {
          if (Array.isArray(value)) items.forEach((item, i) => value[i] !== undefined && item.write(value[i]!));
        },
      };
    }
    case "variant":
    case "result": {
      const cases =
        type.kind === "variant"
          ? type.cases.map((c) => ({ name: c.name, payload: c.type }))
          : [
              { name: "ok", payload: type.ok },
              { name: "error", payload: type.err },
            ];
      const select = h("select", { id }, cases.map((c) => h("option", { value: c.name }, c.name)));
      const payloads = cases.map((c) => {
        const field = c.payload ? fieldFor(c.payload, `${c.name} value`, `${path}.${c.name}`, docs) : undefined;
        const element = h("div", { class: "case-body" }, field?.element ?? null);
        return { name: c.name, field, element };
      });
      const sync = () => payloads.forEach((p) => (p.element.hidden = p.name !== select.value));
      select.addEventListener("change", sync);
      sync();
      const selected = () => payloads.find((p) => p.name === select.value)!;
      return {
        element: group(label, declared, hint, labelled("case", declared, select, undefined), ...payloads.map((p) => p.element)),
        read: (): JsonValue => {
          const p = selected();
          const val = p.field ? p.field.read() : null;
          if (type.kind === "result") return { [p.name]: val };
          return p.field ? { tag: p.name, val } : { tag: p.name };
        },
        write: (value) => {
          if (!isObject(value)) return;
          const name = type.kind === "result" ? ("ok" in value ? "ok" : "error") : value.tag;
          const p = payloads.find((x) => x.name === name);
          if (!p) return;
          select.value = p.name;
          const payload = type.kind === "result" ? value[p.name] : value.val;
          if (p.field && payload !== undefined) p.field.write(payload);
          sync();
        },
      };
    }
    case "list": {
      const element = type.element;
      const items: { field: Field; row: HTMLElement }[] = [];
      const list = h("ol", { class: "list-items" });
      const add = (value?: JsonValue) => {
        const field = fieldFor(element, `item ${items.length + 1}`, `${path}[${items.length}]`, docs);
        if (value !== undefined) field.write(value);
        const remove = h("button", { type: "button", class: "small", onclick: () => {
          const index = items.findIndex((i) => i.row === row);
          items.splice(index, 1);
          row.remove();
        } }, "Remove");
        const row = h("li", null, field.element, remove);
        items.push({ field, row });
        list.append(row);
      };
      const addButton = h("button", { type: "button", class: "small", onclick: () => add() }, `Add ${formatWitType(element)} item`);
      return {
        element: group(label, declared, hint, list, addButton),
        read: () => items.map((i) => i.field.read()),
        write: (value) => {
          if (!Array.isArray(value)) return;
          items.splice(0).forEach((i) => i.row.remove());
          value.forEach((v) => add(v));
        },
      };
    }
  }
  throw new InputError(path, `has a type the form cannot edit (${formatWitType(declared)})`);
}

export interface ArgumentsForm {
  element: HTMLElement;
  /** Positional arguments in WIT parameter order. */
  read(): JsonValue[];
  /** Fills the form from test-vector arguments (positional, or by parameter name). */
  write(args: JsonValue[] | { [name: string]: JsonValue }): void;
}

export function argumentsForm(fn: FunctionSignature, docs: MemberDocs): ArgumentsForm {
  const fields = fn.params.map((p) => ({ name: p.name, field: fieldFor(p.type, p.name, p.name, docs) }));
  return {
    element: h("div", { class: "arguments" }, fields.length ? fields.map((f) => f.field.element) : h("p", { class: "muted" }, "This function takes no arguments.")),
    read: () => fields.map((f) => f.field.read()),
    write: (args) => fields.forEach((f, i) => {
      const value = Array.isArray(args) ? args[i] : args[f.name];
      if (value !== undefined) f.field.write(value);
    }),
  };
}
