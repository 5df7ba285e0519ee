import { decodeFunctionData, encodeAbiParameters, keccak256, type Address, type Hex } from "viem";
import { capabilityRegistryAbi, settlementAbi } from "../abi.ts";
import type { Deployment } from "../deployment.ts";
import { receiptFromJson, receiptRoyaltyLines, type Receipt } from "../receipt.ts";
import { decodeRoyaltyLine, lineMatchesReceipt } from "../royalty-batch.ts";
import { sendContractTx, type ChainClients, type WriteArgs } from "./chain.ts";
import { GlassboxError } from "./errors.ts";
import type { StoredReceipt } from "./receipt-store.ts";

/**
 * Where a receipt's royalties stand on-chain, judged from the chain alone:
 * - settled: every royalty line was paid by a settleRoyalties batch exactly as signed;
 * - pending: not all settled yet, before the deadline;
 * - overdue: not all settled, deadline passed: slashOverdue pays it out of the executor's bond;
 * - mismatched: a line with the receipt's sequence number was settled differently (slashMismatch);
 * - slashed: a proof already paid it out of the bond;
 * - no-royalty: the receipt owes no royalty (free version, fee only).
 * `overcharged` is separate: the fee is above the executor's registered fee (slashOvercharge refunds it).
 */
export type ReceiptState = "settled" | "pending" | "overdue" | "mismatched" | "slashed" | "no-royalty";

export interface SettledBatch {
  firstSeq: bigint;
  count: bigint;
  transaction: Hex;
  versions: readonly Hex[];
  lines: readonly bigint[];
}

export interface LineAudit {
  seq: bigint;
  versionId: Hex;
  royalty: bigint;
  /** The batch that settled this sequence number, if any. */
  batch?: { firstSeq: bigint; transaction: Hex };
  /** Undefined while unsettled; else whether the settled line is the signed one. */
  matches?: boolean;
  /** What the settled line says, when it differs. */
  settledAs?: { versionId: Hex | undefined; royalty: bigint; sameReceipt: boolean };
}

export interface ReceiptAudit {
  entry: StoredReceipt;
  receipt: Receipt;
  state: ReceiptState;
  overcharged: boolean;
  /** The registered fee the receipt's fee is judged against (undefined: executor never registered). */
  registeredFee: bigint | undefined;
  /** The deadline Settlement enforces: the signed one, capped at issuedAt + MAX_SETTLE_WINDOW. */
  deadline: bigint;
  now: bigint;
  lines: LineAudit[];
  /** The batch that proves a mismatch (for slashMismatch). */
  mismatchBatch?: SettledBatch;
}

export interface SlashSubmission {
  receiptId: Hex;
  kind: "overdue" | "mismatch" | "overcharge";
  transaction: Hex;
  /** Royalties paid to the receipt's versions (or, for an overcharge, the excess refunded to the payer). */
  paid: bigint;
  /** Credited to the payer on top. */
  bounty: bigint;
}

/** Reads settled royalty batches of executors from RoyaltiesSettled logs and their calldata (cached per audit run). */
class BatchReader {
  private readonly byExecutor = new Map<string, Promise<{ firstSeq: bigint; count: bigint; batchHash: Hex; transaction: Hex }[]>>();
  private readonly decoded = new Map<string, Promise<SettledBatch>>();

  constructor(
    private readonly chain: ChainClients,
    private readonly deployment: Deployment,
  ) {}

  private events(executor: Address) {
    const key = executor.toLowerCase();
    let events = this.byExecutor.get(key);
    if (!events) {
      events = this.chain.publicClient
        .getContractEvents({
          address: this.deployment.contracts.settlement,
          abi: settlementAbi,
          eventName: "RoyaltiesSettled",
          args: { executor },
          fromBlock: BigInt(this.deployment.startBlock),
        })
        .then((logs) => logs.map((l) => ({ firstSeq: BigInt(l.args.firstSeq!), count: l.args.count!, batchHash: l.args.batchHash!, transaction: l.transactionHash })));
      this.byExecutor.set(key, events);
    }
    return events;
  }

  /** The batch covering `seq`, decoded from its transaction's calldata and checked against its stored hash. */
  async covering(executor: Address, seq: bigint): Promise<SettledBatch | undefined> {
    const event = (await this.events(executor)).find((e) => e.firstSeq <= seq && seq < e.firstSeq + e.count);
    if (!event) return undefined;
    let batch = this.decoded.get(event.transaction);
    if (!batch) {
      batch = this.decode(event);
      this.decoded.set(event.transaction, batch);
    }
    return batch;
  }

  private async decode(event: { firstSeq: bigint; count: bigint; batchHash: Hex; transaction: Hex }): Promise<SettledBatch> {
    const tx = await this.chain.publicClient.getTransaction({ hash: event.transaction });
    let decoded;
    try {
      decoded = decodeFunctionData({ abi: settlementAbi, data: tx.input });
    } catch {
      throw new GlassboxError("BATCH_UNDECODABLE", `The royalty batch at seq ${event.firstSeq} (transaction ${event.transaction}) was not sent as a plain settleRoyalties call: its lines cannot be read from calldata.`);
    }
    if (decoded.functionName !== "settleRoyalties") throw new GlassboxError("BATCH_UNDECODABLE", `Transaction ${event.transaction} is a ${decoded.functionName} call, not settleRoyalties.`);
    const [versions, lines] = decoded.args;
    const hash = keccak256(encodeAbiParameters([{ type: "bytes32[]" }, { type: "uint256[]" }], [versions, lines]));
    if (hash !== event.batchHash) throw new GlassboxError("BATCH_UNDECODABLE", `The calldata of ${event.transaction} does not hash to the batch it settled.`);
    return { firstSeq: event.firstSeq, count: event.count, transaction: event.transaction, versions, lines };
  }
}

/** Checks stored receipts against the chain (see ReceiptState), and submits the proofs that pay bad ones. */
export class ReceiptAuditor {
  private readonly batches: BatchReader;

  constructor(
    private readonly chain: ChainClients,
    private readonly deployment: Deployment,
  ) {
    this.batches = new BatchReader(chain, deployment);
  }

  private get settlement() {
    return { address: this.deployment.contracts.settlement, abi: settlementAbi } as const;
  }

  async audit(entry: StoredReceipt): Promise<ReceiptAudit> {
    if (entry.chainId !== this.deployment.chainId || entry.settlement.toLowerCase() !== this.deployment.contracts.settlement.toLowerCase()) {
      throw new GlassboxError("OTHER_DEPLOYMENT", `Receipt ${entry.receiptId} belongs to chain ${entry.chainId} / Settlement ${entry.settlement}, not this deployment.`);
    }
    const receipt = receiptFromJson(entry.receipt);
    const read = this.chain.publicClient;
    const [nextSeq, slashed, overchargeSlashed, executor, maxWindow, block] = await Promise.all([
      read.readContract({ ...this.settlement, functionName: "nextSeq", args: [receipt.executor] }),
      read.readContract({ ...this.settlement, functionName: "isSlashed", args: [entry.receiptId] }),
      read.readContract({ ...this.settlement, functionName: "isOverchargeSlashed", args: [entry.receiptId] }),
      read.readContract({ address: this.deployment.contracts.registry, abi: capabilityRegistryAbi, functionName: "getExecutor", args: [receipt.executor] }),
      read.readContract({ ...this.settlement, functionName: "MAX_SETTLE_WINDOW" }),
      read.getBlock({ blockTag: "latest" }),
    ]);
    const registeredFee = executor.active || executor.retired ? executor.feePerCall : undefined;
    const cap = receipt.issuedAt + BigInt(maxWindow);
    const deadline = receipt.deadline < cap ? receipt.deadline : cap;
    const lines: LineAudit[] = [];
    let mismatchBatch: SettledBatch | undefined;
    for (const line of receiptRoyaltyLines(receipt)) {
      const audit: LineAudit = { ...line };
      if (line.seq < BigInt(nextSeq)) {
        const batch = await this.batches.covering(receipt.executor, line.seq);
        if (batch) {
          const settled = batch.lines[Number(line.seq - batch.firstSeq)]!;
          const decoded = decodeRoyaltyLine(settled);
          const versionId = batch.versions[decoded.versionIndex];
          const sameReceipt = lineMatchesReceipt(settled, entry.receiptId);
          audit.batch = { firstSeq: batch.firstSeq, transaction: batch.transaction };
          audit.matches = sameReceipt && versionId?.toLowerCase() === line.versionId.toLowerCase() && decoded.royalty === line.royalty;
          if (!audit.matches) {
            audit.settledAs = { versionId, royalty: decoded.royalty, sameReceipt };
            mismatchBatch ??= batch;
          }
        }
      }
      lines.push(audit);
    }
    let state: ReceiptState;
    if (slashed) state = "slashed";
    else if (mismatchBatch) state = "mismatched";
    else if (lines.length === 0) state = "no-royalty";
    else if (lines.every((l) => l.matches)) state = "settled";
    else state = block.timestamp > deadline ? "overdue" : "pending";
    const overcharged = registeredFee !== undefined && receipt.executorFee > registeredFee && !overchargeSlashed;
    return { entry, receipt, state, overcharged, registeredFee, deadline, now: block.timestamp, lines, ...(mismatchBatch ? { mismatchBatch } : {}) };
  }

  /** Sends every proof this audit supports (overdue or mismatch, and overcharge); the bounty goes to the payer. */
  async submit(audit: ReceiptAudit): Promise<SlashSubmission[]> {
    const { receipt, entry } = audit;
    const done: SlashSubmission[] = [];
    if (audit.state === "overdue") {
      done.push(await this.send(entry.receiptId, "overdue", "slashOverdue", [receipt, entry.signature]));
    } else if (audit.state === "mismatched" && audit.mismatchBatch) {
      const b = audit.mismatchBatch;
      done.push(await this.send(entry.receiptId, "mismatch", "slashMismatch", [receipt, entry.signature, b.firstSeq, b.versions, b.lines]));
    }
    if (audit.overcharged) done.push(await this.send(entry.receiptId, "overcharge", "slashOvercharge", [receipt, entry.signature]));
    return done;
  }

  private async send<functionName extends "slashOverdue" | "slashMismatch" | "slashOvercharge">(
    receiptId: Hex,
    kind: SlashSubmission["kind"],
    functionName: functionName,
    args: WriteArgs<typeof settlementAbi, functionName>,
  ): Promise<SlashSubmission> {
    const transaction = await sendContractTx(this.chain, `Submitting the ${kind} proof of receipt ${receiptId}`, { ...this.settlement, functionName, args });
    const receipt = await this.chain.publicClient.getTransactionReceipt({ hash: transaction });
    const slashed = await this.chain.publicClient.getContractEvents({
      address: this.deployment.contracts.settlement,
      abi: settlementAbi,
      eventName: "Slashed",
      args: { receiptId },
      blockHash: receipt.blockHash,
    });
    const event = slashed.find((e) => e.transactionHash === transaction);
    return { receiptId, kind, transaction, paid: event?.args.paid ?? 0n, bounty: event?.args.bounty ?? 0n };
  }
}
