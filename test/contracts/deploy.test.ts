import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../cli/dev/ports.ts";
import { waitFor } from "../../cli/dev/wait.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPublicClient, getContract, http } from "viem";
import { abiModulePath, renderAbiModule } from "../../scripts/export-abis.ts";
import { deployGlassbox, HARDHAT_DEV_KEY_0 } from "../../contracts/scripts/deploy.ts";
import { capabilityRegistryAbi, settlementAbi } from "../../sdk/abi.ts";
import { DeploymentError, parseDeployment } from "../../sdk/deployment.ts";
import { loadDeployment } from "../../sdk/deployments.ts";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");

describe("sdk/abi.ts", () => {
  it("is up to date with the Hardhat artifacts (regenerate: tsx scripts/export-abis.ts)", async () => {
    expect(await readFile(abiModulePath, "utf8")).toBe(await renderAbiModule());
  });
});

describe("sdk/deployments.ts", () => {
  it("validates the file and names the bad field", () => {
    const good = {
      chainId: 31337,
      startBlock: 1,
      contracts: {
        registry: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
        settlement: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
        usdc: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      },
    };
    expect(parseDeployment(good).contracts.registry).toBe("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512");
    expect(() => parseDeployment({ ...good, chainId: "1" })).toThrow(/"chainId" must be a positive integer/);
    expect(() => parseDeployment({ ...good, startBlock: -1 })).toThrow(/"startBlock"/);
    expect(() => parseDeployment({ ...good, contracts: { ...good.contracts, usdc: "0x12" } })).toThrow(/"contracts.usdc"/);
    expect(() => parseDeployment(null)).toThrow(DeploymentError);
  });

  it("explains how to create a missing deployment", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "glassbox-deployments-"));
    await expect(loadDeployment(424242, dir)).rejects.toThrow(/No Glassbox deployment for chain 424242.*deploy\.ts --rpc/);
    await writeFile(path.join(dir, "7.json"), "{not json");
    await expect(loadDeployment(7, dir)).rejects.toThrow(/not valid JSON/);
    await rm(dir, { recursive: true });
  });
});

describe("contracts/scripts/deploy.ts against a real hardhat node", () => {
  let node: ChildProcess | undefined;
  let rpcUrl = "";
  let dir = "";

  beforeAll(async () => {
    const port = await freePort();
    rpcUrl = `http://127.0.0.1:${port}`;
    dir = await mkdtemp(path.join(tmpdir(), "glassbox-deploy-"));
    const cli = path.join(repoRoot, "node_modules", "hardhat", "dist", "src", "cli.js");
    node = spawn(process.execPath, [cli, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
      cwd: repoRoot,
      stdio: "ignore",
    });
    const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) });
    await waitFor(() => client.getChainId(), { timeoutMs: 30_000, what: "the hardhat node" });
  });

  afterAll(async () => {
    node?.kill("SIGTERM");
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("deploys all three contracts, wires Settlement, and writes deployments/<chainId>.json", async () => {
    const result = await deployGlassbox({ rpcUrl, deployerKey: HARDHAT_DEV_KEY_0, deploymentsDir: dir });
    expect(result.chainId).toBe(31337);
    const loaded = await loadDeployment(31337, dir);
    expect(loaded).toEqual({ chainId: result.chainId, startBlock: result.startBlock, contracts: result.contracts });
    const client = createPublicClient({ transport: http(rpcUrl) });
    const settlement = getContract({ address: loaded.contracts.settlement, abi: settlementAbi, client });
    expect(await settlement.read.registry()).toBe(loaded.contracts.registry);
    expect(await settlement.read.usdc()).toBe(loaded.contracts.usdc);
    // The deployer is the surplus recipient unless one is given; the registry knows Settlement and its token.
    expect(await settlement.read.surplusRecipient()).toBe("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    const registry = getContract({ address: loaded.contracts.registry, abi: capabilityRegistryAbi, client });
    expect(await registry.read.settlement()).toBe(loaded.contracts.settlement);
    expect(await registry.read.token()).toBe(loaded.contracts.usdc);
    expect(loaded.startBlock).toBeLessThanOrEqual(Number(await client.getBlockNumber()));

    // With an existing USDC, no token is deployed.
    const surplusRecipient = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    const again = await deployGlassbox({
      rpcUrl,
      deployerKey: HARDHAT_DEV_KEY_0,
      usdc: loaded.contracts.usdc,
      surplusRecipient,
      write: false,
    });
    expect(again.contracts.usdc).toBe(loaded.contracts.usdc);
    const second = getContract({ address: again.contracts.settlement, abi: settlementAbi, client });
    expect(await second.read.surplusRecipient()).toBe(surplusRecipient);
    expect(again.contracts.registry).not.toBe(loaded.contracts.registry);
  });

  it("runs as a CLI with the dev key on 31337", async () => {
    const out = path.join(dir, "cli");
    const tsx = path.join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs");
    const { stdout } = await promisify(execFile)(process.execPath, [tsx, "contracts/scripts/deploy.ts", "--rpc", rpcUrl, "--out", out], {
      cwd: repoRoot,
      env: { ...process.env, GLASSBOX_DEPLOYER_KEY: "" },
    });
    const printed = JSON.parse(stdout) as { contracts: { settlement: string } };
    expect((await loadDeployment(31337, out)).contracts.settlement).toBe(printed.contracts.settlement);
  });
});
