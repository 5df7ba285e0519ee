/**
 * Load generator worker for bench/executor.ts: runs the clients off the executor's event loop.
 * Plain erasable TypeScript (Node strips the types in worker threads). Input: workerData
 * { requests: { url, body, headers }[], concurrency, lanes? }; output: { latencies, statuses, bodies, elapsedMs, cpuMicros }
 * (cpuMicros: the whole process's CPU time while the clients ran, this worker's start-up excluded).
 * With `lanes` (one list of request indexes per client), client k sends exactly lane k, in order (a payment
 * channel takes one call at a time, each voucher following the previous one).
 */
import { parentPort, workerData } from "node:worker_threads";

interface Job {
  requests: { url: string; body: string; headers: Record<string, string> }[];
  concurrency: number;
  lanes?: number[][];
}

const job = workerData as Job;
const latencies: number[] = [];
const statuses: number[] = [];
const bodies: string[] = [];
let next = 0;
const started = performance.now();
const cpuAtStart = process.cpuUsage();
await Promise.all(
  Array.from({ length: job.concurrency }, async (_, client) => {
    const lane = job.lanes?.[client];
    let own = 0;
    const take = (): number | undefined => (lane ? lane[own++] : next < job.requests.length ? next++ : undefined);
    for (let index = take(); index !== undefined; index = take()) {
      const request = job.requests[index]!;
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
const cpu = process.cpuUsage(cpuAtStart);
parentPort!.postMessage({ latencies, statuses, bodies, elapsedMs: performance.now() - started, cpuMicros: cpu.user + cpu.system });
