/**
 * Pending royalties come from each executor's GET /v1/info. Real HTTP servers on loopback answer as executors
 * do (the sdk/protocol.ts InfoBody shape), or fail in every way an executor can: the reader must report each
 * failure as "unknown" with its reason and never throw.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { encodeAbiParameters, encodeFunctionData, keccak256, type Address, type Hex } from "viem";
import { PendingRoyaltyReader, parseUnsettledRoyalties } from "../../indexer/lib/pending-royalties.ts";
import { itemizeRoyaltyBatch } from "../../indexer/lib/royalty-calldata.ts";
import { settlementAbi } from "../../sdk/abi.ts";
import { versionIdOf, packageIdOf } from "../../sdk/ids.ts";
import type { InfoBody } from "../../sdk/protocol.ts";
import { encodeRoyaltyLine } from "../../sdk/royalty-batch.ts";
import { waitFor } from "../../cli/dev/wait.ts";

const EXECUTOR: Address = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const OTHER: Address = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";
const V1 = versionIdOf(packageIdOf("acme/markdown"), "1.0.0");
const V2 = versionIdOf(packageIdOf("acme/markdown"), "1.1.0");
const ELSEWHERE = versionIdOf(packageIdOf("bob/other"), "1.0.0");

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

/** A loopback server answering GET /v1/info with `handler`; counts the requests it got. */
async function executorServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ endpoint: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits += 1;
    if (req.url !== "/v1/info") {
      res.writeHead(404).end();
      return;
    }
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, hits: () => hits };
}

function infoBody(address: Address, versions: InfoBody["unsettledRoyalties"]["versions"]): InfoBody {
  const total = versions.reduce((n, v) => n + BigInt(v.amount), 0n);
  return {
    operator: address,
    address,
    chainId: 31337,
    network: "eip155:31337",
    contracts: {},
    registered: true,
    fee: "200",
    endpoint: "http://executor",
    bond: "10000",
    schemes: [],
    channels: { contract: "0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003", withdrawDelaySeconds: 900 },
    settleWindowSeconds: 3600,
    unsettledRoyalties: { total: total.toString(), receipts: versions.reduce((n, v) => n + v.receipts, 0), versions },
    nextSeq: "7",
    packages: [],
  };
}

const json = (body: unknown) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
};

describe("pending royalties from executors", () => {
  it("sums what each answering executor owes the package's versions, and nothing of other packages", async () => {
    const a = await executorServer(
      json(
        infoBody(EXECUTOR, [
          { versionId: V1, name: "acme/markdown", version: "1.0.0", receipts: 2, amount: "2000" },
          { versionId: ELSEWHERE, name: "bob/other", version: "1.0.0", receipts: 9, amount: "9000" },
        ]),
      ),
    );
    // The bare-list form of unsettledRoyalties is read too.
    const b = await executorServer(json({ address: OTHER, unsettledRoyalties: [{ versionId: V2.toUpperCase().replace("0X", "0x"), version: "1.1.0", receipts: 1, amount: "1500" }] }));
    const reader = new PendingRoyaltyReader();
    const pending = await reader.forVersions(
      [
        { address: EXECUTOR, endpoint: a.endpoint },
        { address: OTHER, endpoint: b.endpoint },
      ],
      [V1, V2],
    );
    expect(pending).toEqual({
      receipts: 3,
      amount: "3500",
      complete: true,
      executors: [
        { executor: EXECUTOR, endpoint: a.endpoint, status: "ok", error: null, receipts: 2, amount: "2000", versions: [{ versionId: V1, version: "1.0.0", receipts: 2, amount: "2000" }], checkedAt: expect.any(Number) },
        { executor: OTHER, endpoint: b.endpoint, status: "ok", error: null, receipts: 1, amount: "1500", versions: [expect.objectContaining({ receipts: 1, amount: "1500" })], checkedAt: expect.any(Number) },
      ],
    });
  });

  it("asks each executor once per TTL however many pages ask, then again once the answer is stale", async () => {
    const a = await executorServer(json(infoBody(EXECUTOR, [{ versionId: V1, name: "acme/markdown", version: "1.0.0", receipts: 1, amount: "1000" }])));
    const cached = new PendingRoyaltyReader({ ttlMs: 60_000 });
    const who = [{ address: EXECUTOR, endpoint: a.endpoint }];
    await Promise.all([cached.forVersions(who, [V1]), cached.forVersions(who, [V1]), cached.forVersions(who, [V2])]);
    await cached.forVersions(who, [V1]);
    expect(a.hits()).toBe(1);

    const b = await executorServer(json(infoBody(EXECUTOR, [])));
    const shortLived = new PendingRoyaltyReader({ ttlMs: 1 });
    await shortLived.forVersions([{ address: EXECUTOR, endpoint: b.endpoint }], [V1]);
    await waitFor(async () => {
      await shortLived.forVersions([{ address: EXECUTOR, endpoint: b.endpoint }], [V1]);
      return b.hits() >= 2 ? true : undefined;
    }, { timeoutMs: 10_000, what: "a second request after the TTL" });
  });

  it("shows every failing executor as unknown with its reason, and the sums as incomplete", async () => {
    const ok = await executorServer(json(infoBody(EXECUTOR, [{ versionId: V1, name: "acme/markdown", version: "1.0.0", receipts: 4, amount: "4000" }])));
    const status500 = await executorServer((_req, res) => res.writeHead(500).end("boom"));
    const notJson = await executorServer((_req, res) => res.writeHead(200).end("<html>"));
    const impostor = await executorServer(json(infoBody(OTHER, [{ versionId: V1, name: "acme/markdown", version: "1.0.0", receipts: 99, amount: "99" }])));
    const negative = await executorServer(json({ unsettledRoyalties: [{ versionId: V1, receipts: 1, amount: "-5" }] }));
    const noList = await executorServer(json({ fee: "200" }));
    const huge = await executorServer((_req, res) => res.writeHead(200).end(JSON.stringify({ pad: "x".repeat(4_000) })));
    const silent = await executorServer(() => undefined); // accepts, never answers
    const closed = await executorServer(json({}));
    const closedEndpoint = closed.endpoint;
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));

    const reader = new PendingRoyaltyReader({ timeoutMs: 300, maxBodyBytes: 1_000 });
    const ask = (endpoint: string) => ({ address: EXECUTOR, endpoint });
    const pending = await reader.forVersions(
      [ask(ok.endpoint), ask(status500.endpoint), ask(notJson.endpoint), ask(impostor.endpoint), ask(negative.endpoint), ask(noList.endpoint), ask(huge.endpoint), ask(silent.endpoint), ask(closedEndpoint), ask("ftp://127.0.0.1/"), ask("not a url")],
      [V1],
    );
    expect(pending.receipts).toBe(4);
    expect(pending.amount).toBe("4000");
    expect(pending.complete).toBe(false);
    const errors = pending.executors.map((e) => [e.status, e.error]);
    expect(errors).toEqual([
      ["ok", null],
      ["unknown", "/v1/info answered HTTP 500"],
      ["unknown", "/v1/info did not answer JSON"],
      ["unknown", expect.stringContaining(`answers for ${OTHER}, not for the registered executor ${EXECUTOR}`)],
      ["unknown", "unsettledRoyalties[0].amount must be a decimal string of base units"],
      ["unknown", "/v1/info has no unsettledRoyalties list"],
      ["unknown", "/v1/info answer is larger than 1000 bytes"],
      ["unknown", "no answer within 300 ms"],
      ["unknown", expect.stringMatching(/fetch failed: .*ECONNREFUSED/)],
      ["unknown", "endpoint is not an http(s) URL"],
      ["unknown", expect.stringMatching(/Invalid URL/)],
    ]);
    for (const e of pending.executors.slice(1)) expect(e).toEqual(expect.objectContaining({ receipts: null, amount: null, versions: [] }));
  });

  it("validates every unsettled entry and names the field", () => {
    expect(() => parseUnsettledRoyalties([], EXECUTOR)).toThrow(/not answer a JSON object/);
    expect(() => parseUnsettledRoyalties({ unsettledRoyalties: [{ versionId: "0x12", receipts: 1, amount: "1" }] }, EXECUTOR)).toThrow(/\[0\]\.versionId/);
    expect(() => parseUnsettledRoyalties({ unsettledRoyalties: [{ versionId: V1, receipts: 1.5, amount: "1" }] }, EXECUTOR)).toThrow(/\[0\]\.receipts/);
    expect(() => parseUnsettledRoyalties({ unsettledRoyalties: { versions: [7] } }, EXECUTOR)).toThrow(/\[0\] is not an object/);
    // One version listed twice adds up.
    const twice = parseUnsettledRoyalties({ unsettledRoyalties: [{ versionId: V1, receipts: 1, amount: "10" }, { versionId: V1, receipts: 2, amount: "20" }] }, EXECUTOR);
    expect([...twice.versions.values()]).toEqual([{ versionId: V1, version: null, receipts: 3, amount: 30n }]);
  });
});

describe("royalty batch itemization from calldata", () => {
  const SETTLEMENT: Address = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";
  const id = (n: number): Hex => `0x${n.toString(16).padStart(64, "a")}`;
  const versions: Hex[] = [V1, V2, V1];
  const lines = [encodeRoyaltyLine(id(1), 0, 1_000n), encodeRoyaltyLine(id(2), 1, 1_500n), encodeRoyaltyLine(id(3), 2, 1_001n), encodeRoyaltyLine(id(4), 1, 1_500n)];
  const input = encodeFunctionData({ abi: settlementAbi, functionName: "settleRoyalties", args: [versions, lines] });
  const batchHash = keccak256(encodeAbiParameters([{ type: "bytes32[]" }, { type: "uint256[]" }], [versions, lines]));

  it("counts lines and sums royalties per version, merging a version listed twice", () => {
    expect(itemizeRoyaltyBatch({ to: SETTLEMENT, input }, "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0", batchHash)).toEqual([
      { versionId: V1, lines: 2n, amount: 2_001n },
      { versionId: V2, lines: 2n, amount: 3_000n },
    ]);
  });

  it("itemizes nothing it cannot prove: another contract, another function, or calldata that does not hash to the event", () => {
    expect(itemizeRoyaltyBatch({ to: OTHER, input }, SETTLEMENT, batchHash)).toBeUndefined();
    expect(itemizeRoyaltyBatch({ to: null, input }, SETTLEMENT, batchHash)).toBeUndefined();
    expect(itemizeRoyaltyBatch({ to: SETTLEMENT, input: encodeFunctionData({ abi: settlementAbi, functionName: "claim", args: [] }) }, SETTLEMENT, batchHash)).toBeUndefined();
    expect(itemizeRoyaltyBatch({ to: SETTLEMENT, input: "0xdeadbeef" }, SETTLEMENT, batchHash)).toBeUndefined();
    expect(itemizeRoyaltyBatch({ to: SETTLEMENT, input }, SETTLEMENT, keccak256("0x01"))).toBeUndefined();
  });
});
