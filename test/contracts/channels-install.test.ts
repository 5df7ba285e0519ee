/**
 * The x402 contracts installer: canonical addresses (the ones the stock @x402/evm client hard-codes), dev chains
 * only, and the Deployment fields that record them.
 */
import { BATCH_SETTLEMENT_ADDRESS as STOCK_BATCH_SETTLEMENT, ERC3009_DEPOSIT_COLLECTOR_ADDRESS as STOCK_COLLECTOR } from "@x402/evm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAddress } from "viem";
import { mainnet } from "viem/chains";
import { ensureX402Contracts, installX402Contracts } from "../../contracts/scripts/x402.ts";
import { multicall3Abi } from "../../sdk/abi.ts";
import { parseDeployment } from "../../sdk/deployment.ts";
import { BATCH_SETTLEMENT_ADDRESS, ERC3009_DEPOSIT_COLLECTOR_ADDRESS, MULTICALL3_ADDRESS } from "../../sdk/x402-contracts.ts";
import { startLocalChain, type LocalChain } from "../helpers/chain.ts";
import { publicClientFor } from "../helpers/x402-channels.ts";

describe("x402 contract addresses", () => {
  it("are the ones the stock client and facilitator use", () => {
    expect(BATCH_SETTLEMENT_ADDRESS).toBe(getAddress(STOCK_BATCH_SETTLEMENT));
    expect(ERC3009_DEPOSIT_COLLECTOR_ADDRESS).toBe(getAddress(STOCK_COLLECTOR));
    expect(MULTICALL3_ADDRESS).toBe(getAddress(mainnet.contracts.multicall3.address));
  });

  it("default to the canonical addresses in older deployment files and are validated when present", () => {
    const base = {
      chainId: 31337,
      startBlock: 1,
      contracts: {
        registry: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
        settlement: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
        usdc: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      },
    };
    expect(parseDeployment(base).contracts.batchSettlement).toBe(BATCH_SETTLEMENT_ADDRESS);
    expect(parseDeployment(base).contracts.erc3009DepositCollector).toBe(ERC3009_DEPOSIT_COLLECTOR_ADDRESS);
    expect(() => parseDeployment({ ...base, contracts: { ...base.contracts, batchSettlement: "0x12" } })).toThrow(/"contracts.batchSettlement"/);
  });
});

describe("installX402Contracts", () => {
  let dev: LocalChain;
  let other: LocalChain;
  beforeAll(async () => {
    dev = await startLocalChain();
    other = await startLocalChain({ chainId: 8453 });
  });
  afterAll(async () => {
    await dev?.close();
    await other?.close();
  });

  it("installs working runtime code at the canonical addresses of a dev chain", async () => {
    const installed = await installX402Contracts(dev.rpcUrl);
    expect(installed).toEqual({
      batchSettlement: BATCH_SETTLEMENT_ADDRESS,
      erc3009DepositCollector: ERC3009_DEPOSIT_COLLECTOR_ADDRESS,
      multicall3: MULTICALL3_ADDRESS,
    });
    const client = publicClientFor(dev.rpcUrl);
    const chainId = await client.readContract({ address: MULTICALL3_ADDRESS, abi: multicall3Abi, functionName: "getChainId" });
    expect(chainId).toBe(31337n);
    // Installing again (a restarted dev stack) is harmless.
    await expect(installX402Contracts(dev.rpcUrl)).resolves.toEqual(installed);
  });

  it("refuses chains that are not dev chains, and there requires the canonical deployment", async () => {
    await expect(installX402Contracts(other.rpcUrl)).rejects.toThrow(/Refusing to install the x402 contracts .* chain 8453/);
    await expect(ensureX402Contracts(other.rpcUrl)).rejects.toThrow(/No batchSettlement contract at its canonical address .* chain 8453/);
    expect(await publicClientFor(other.rpcUrl).getCode({ address: BATCH_SETTLEMENT_ADDRESS })).toBeUndefined();
  });
});
