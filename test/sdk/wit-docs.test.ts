import { describe, expect, it } from "vitest";
import { describeInterface, documentInterface } from "../../sdk/wit.ts";

const WIT = `package demo:docs@1.0.0;

/// Shared types.
interface types {
  /// A point on the plane.
  record point { x: s32, y: s32 }
}

// A plain comment is not documentation.
/// Geometry helpers.
/// Second line of the interface docs.
interface geometry {
  use types.{point};
  /// Distances are in pixels.
  type distance = u32;
  /// Which way to turn.
  enum turn {
    /// Counter-clockwise.
    left,
    right,
  }
  /// Drawing options.
  flags style {
    /// A dashed line.
    dashed,
    bold,
  }
  /// A shape.
  variant shape {
    /// Just a point.
    dot(point),
    /// Nothing at all.
    empty,
  }
  //// Four slashes: not a doc comment.
  /// How far apart two points are.
  @since(version = 1.0.0)
  distance-between: func(a: point, b: point) -> distance;
  no-docs: func(s: shape, t: turn, f: style);
}

/// The world.
world app {
  export geometry;
}
`;

describe("WIT documentation", () => {
  it("keeps the /// doc comments of interfaces, types, members and functions, resolved types included", () => {
    const doc = documentInterface(WIT, "app");
    expect(doc.name).toBe("geometry");
    expect(doc.docs).toBe("Geometry helpers.\nSecond line of the interface docs.");
    const byName = Object.fromEntries(doc.types.map((t) => [t.name, t]));
    expect(byName.point).toMatchObject({ kind: "alias", usedFrom: "types", target: { kind: "record", name: "point" } });
    expect(byName.distance).toMatchObject({ kind: "alias", docs: "Distances are in pixels.", target: { kind: "u32" } });
    expect(byName.turn).toMatchObject({ kind: "enum", docs: "Which way to turn.", members: [{ name: "left", docs: "Counter-clockwise." }, { name: "right" }] });
    expect(byName.turn!.members[1]!.docs).toBeUndefined();
    expect(byName.style).toMatchObject({ kind: "flags", members: [{ name: "dashed", docs: "A dashed line." }, { name: "bold" }] });
    expect(byName.shape).toMatchObject({
      kind: "variant",
      members: [
        { name: "dot", docs: "Just a point.", type: { kind: "record", name: "point" } },
        { name: "empty", docs: "Nothing at all.", type: null },
      ],
    });
    expect(doc.functions.map((f) => [f.name, f.docs])).toEqual([
      ["distance-between", "How far apart two points are."],
      ["no-docs", undefined],
    ]);
    expect(doc.functions[0]!.result).toMatchObject({ kind: "alias", name: "distance" });
  });

  it("leaves the signatures the runtime uses unchanged", () => {
    const doc = documentInterface(WIT, "app", "geometry");
    const plain = describeInterface(WIT, "app", "geometry");
    expect(doc.functions.map(({ docs: _docs, ...fn }) => fn)).toEqual(plain.functions);
  });
});
