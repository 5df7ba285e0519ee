/**
 * Load generator worker for bench/executor.ts: runs the clients off the executor's event loop.
 * Plain erasable TypeScript (Node strips the types in worker threads). Input: workerData
 * { requests: { url, body, headers }[], concurrency }; output: { latencies, statuses, bodies, elapsedMs }.
 */
import { parentPort, workerData } from "node:worker_threads";

interface Job {
  requests: { url: string; body: string; headers: Record<string, string> }[];
  concurrency: number;
}

const job = workerData as Job;
const latencies: number[] = [];
const statuses: number[] = [];
const bodies: string[] = [];
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: job.concurrency }, async () => {
    while (next < job.requests.length) {
      const request = job.requests[next++]!;
      const t0 = performance.now();
      try {
        const response = await fetch(request.url, { method: "POST", body: request.body, headers: { "content-type": "application/json", ...request.headers } });
        const text = await response.text();
        latencies.push(performance.now() - t0);
        statuses.push(response.status);
        bodies.push(text);
      } catch (error) {
        statuses.push(0);
        bodies.push(JSON.stringify({ error: { message: (error as Error).message } }));
      }
    }
  }),
);
parentPort!.postMessage({ latencies, statuses, bodies, elapsedMs: performance.now() - started });
