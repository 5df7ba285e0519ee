import { toHex, type Hex } from "viem";
import { mnemonicToAccount, type HDAccount } from "viem/accounts";

/**
 * Hardhat's public development mnemonic: every local chain funds its accounts with ETH. Public
 * knowledge, so only ever for chain 31337; never for a real network.
 */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";
export const LOCAL_CHAIN_ID = 31337;

/** Who is who in the local stack `npm start` runs. */
export const DEV_ROLES = {
  deployer: 0,
  maintainer: 1, // owns the acme/* sample capabilities
  forkAuthor: 2, // owns forker/*
  agent: 3, // pays for calls
  operator: 4, // runs the executor
} as const;

/** Most executors the local stack runs (Hardhat funds 20 accounts with ETH; 10-19 are spare operators). */
export const MAX_DEV_EXECUTORS = 10;

/** The dev account operating executor `i` of the local stack: the operator role first, then 10, 11, ... */
export function devExecutorOperatorIndex(i: number): number {
  if (!Number.isInteger(i) || i < 0 || i >= MAX_DEV_EXECUTORS) throw new RangeError(`executor index ${i} is outside 0..${MAX_DEV_EXECUTORS - 1}`);
  return i === 0 ? DEV_ROLES.operator : 9 + i;
}

/** Development account `index` (0 deploys, 1-2 maintainers, 3+ agents in the local stack). */
export function devAccount(index: number): HDAccount {
  return mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index });
}

/** The private key of development account `index`, for APIs that take a key. */
export function devPrivateKey(index: number): Hex {
  const key = devAccount(index).getHdKey().privateKey;
  if (!key) throw new Error(`could not derive the private key of development account ${index}`);
  return toHex(key);
}
