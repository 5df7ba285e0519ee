import type { Address } from "viem";

/**
 * Canonical addresses of the x402 batch-settlement contracts (the same on every chain: CREATE2). The stock
 * @x402/evm client and facilitator hard-code them; on the local dev chain Glassbox installs its own
 * implementation there (contracts/scripts/x402.ts). test/contracts/channels-install.test.ts checks they equal the
 * constants @x402/evm ships.
 */
export const BATCH_SETTLEMENT_ADDRESS: Address = "0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003";
export const ERC3009_DEPOSIT_COLLECTOR_ADDRESS: Address = "0x4020806089470a89826cB9fB1f4059150b550004";
/** Multicall3's canonical address: the stock batch-settlement facilitator reads channel state through it. */
export const MULTICALL3_ADDRESS: Address = "0xcA11bde05977b3631167028862bE2a173976CA11";
