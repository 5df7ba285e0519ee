import { getAddress, isAddress, type Address } from "viem";
import { BATCH_SETTLEMENT_ADDRESS, ERC3009_DEPOSIT_COLLECTOR_ADDRESS } from "./x402-contracts.ts";

/** Where the contracts of one chain live (stored as deployments/<chainId>.json by sdk/deployments.ts). */
export interface Deployment {
  chainId: number;
  /** First block to index (the earliest deployment transaction of this set). */
  startBlock: number;
  contracts: {
    registry: Address;
    settlement: Address;
    usdc: Address;
    /** The x402 batch-settlement channel contract (payment channels; executors are channel receivers). */
    batchSettlement: Address;
    /** The ERC-3009 deposit collector the channel contract pulls deposits through. */
    erc3009DepositCollector: Address;
  };
}

/** The x402 contract fields of a Deployment; absent from older deployment files, where they default to these. */
type X402ContractName = "batchSettlement" | "erc3009DepositCollector";
const CANONICAL_X402_CONTRACTS: Record<X402ContractName, Address> = {
  batchSettlement: BATCH_SETTLEMENT_ADDRESS,
  erc3009DepositCollector: ERC3009_DEPOSIT_COLLECTOR_ADDRESS,
};

export class DeploymentError extends Error {
  override name = "DeploymentError";
}

/** Validates parsed JSON as a Deployment; errors name the field. */
export function parseDeployment(value: unknown, source = "deployment"): Deployment {
  const fail = (field: string, expected: string): never => {
    throw new DeploymentError(`Invalid ${source}: "${field}" must be ${expected}.`);
  };
  if (typeof value !== "object" || value === null) return fail("(root)", "an object");
  const record = value as Record<string, unknown>;
  const { chainId, startBlock, contracts } = record;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0) {
    fail("chainId", "a positive integer");
  }
  if (typeof startBlock !== "number" || !Number.isSafeInteger(startBlock) || startBlock < 0) {
    fail("startBlock", "a non-negative integer");
  }
  if (typeof contracts !== "object" || contracts === null) return fail("contracts", "an object");
  const addresses = contracts as Record<string, unknown>;
  const address = (name: "registry" | "settlement" | "usdc" | X402ContractName): Address => {
    const raw = addresses[name];
    if (typeof raw !== "string" || !isAddress(raw, { strict: false })) {
      return fail(`contracts.${name}`, "a 0x-prefixed 20-byte address");
    }
    return getAddress(raw);
  };
  const x402Address = (name: X402ContractName): Address =>
    addresses[name] === undefined ? CANONICAL_X402_CONTRACTS[name] : address(name);
  return {
    chainId: chainId as number,
    startBlock: startBlock as number,
    contracts: {
      registry: address("registry"),
      settlement: address("settlement"),
      usdc: address("usdc"),
      batchSettlement: x402Address("batchSettlement"),
      erc3009DepositCollector: x402Address("erc3009DepositCollector"),
    },
  };
}
