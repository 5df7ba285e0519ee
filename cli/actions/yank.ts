import type { Command } from "commander";
import { connect, outputFor } from "../context.ts";
import { dim, green } from "../ui.ts";

export async function yank(ref: string, command: Command): Promise<void> {
  const out = outputFor(command);
  const { glassbox } = await connect(command, { wallet: "required" });
  const transaction = await out.step(`Yanking ${ref}`, () => glassbox.yank(ref));
  out.result(`${green("Yanked")} ${ref} ${dim(transaction)}`, { yanked: ref, transaction });
}
