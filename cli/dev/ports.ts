import { createServer } from "node:net";

/**
 * A TCP port on 127.0.0.1 that is free now: `preferred` if it is, else one the OS picks. Callers
 * bind it soon after; a process that may still move off it (Ponder does) must report the real one.
 */
export async function freePort(preferred = 0): Promise<number> {
  const probe = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => (address && typeof address === "object" ? resolve(address.port) : reject(new Error("could not read the port of a probe server"))));
      });
    });
  if (preferred) {
    try {
      return await probe(preferred);
    } catch {
      // taken: fall through to an OS-picked port
    }
  }
  return probe(0);
}
