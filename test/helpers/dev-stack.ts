import { startDevStack, type DevStack, type DevStackOptions } from "../../cli/dev-stack.ts";

/**
 * The dev stack on ports the OS picks: test files run in parallel, and two stacks probing `npm
 * start`'s well-known ports at once could both find one free, the loser then talking to the other's
 * chain or executor.
 */
export function startTestStack(options: DevStackOptions): Promise<DevStack> {
  return startDevStack({ rpcPort: 0, indexerPort: 0, executorPort: 0, webPort: 0, ...options });
}
