/**
 * An injected EIP-1193 wallet for browser tests, announced through EIP-6963 like a real extension.
 * The page side is a thin provider; every request goes to Node (page.exposeFunction), where a
 * Hardhat dev key signs for real and transactions are sent to the real local chain. Tests can make
 * the "user" refuse the next request of a kind, start on another chain, or refuse to connect.
 */
import type { Page } from "playwright-core";
import { createWalletClient, http, numberToHex, type Hex, type LocalAccount, type TypedDataDefinition } from "viem";
import { chainFor } from "../../../sdk/client/chain.ts";

interface RpcRequest {
  method: string;
  params?: unknown[];
}

type Reply = { result: unknown } | { error: { code: number; message: string } };

export interface TestWalletOptions {
  rpcUrl: string;
  /** The chain the catalog runs on: the only one this wallet can really send to. */
  chainId: number;
  account: LocalAccount;
  /** The chain the wallet reports at first (another one tests the "wrong network" path). */
  startChainId?: number;
  name?: string;
}

export interface TestWallet {
  readonly address: Hex;
  /** Every method the page asked for, in order. */
  readonly requests: string[];
  /** The next request of `method` is refused by the "user" (EIP-1193 code 4001). */
  refuseNext(method: string): void;
}

const REFUSED = { code: 4001, message: "User rejected the request." };

/** An EIP-1193 provider error (code + message), as wallets answer. */
class ProviderError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** EIP-712 integers arrive as strings over JSON-RPC: viem's signer wants bigints. */
function withIntegers(types: Record<string, readonly { name: string; type: string }[]>, type: string, value: unknown): unknown {
  const fields = types[type];
  if (!fields || typeof value !== "object" || value === null) return typeof value === "string" && /^u?int\d*$/.test(type) ? BigInt(value) : value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(fields.map((f) => [f.name, withIntegers(types, f.type, record[f.name])]));
}

const PAGE_PROVIDER = (info: { uuid: string; name: string; rdns: string; icon: string }) => `(() => {
  const listeners = {};
  const provider = {
    async request(args) {
      const reply = await window.__glassboxTestWallet({ method: args.method, params: args.params ?? [] });
      if (reply.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
      return reply.result;
    },
    on(event, listener) { (listeners[event] ??= []).push(listener); return provider; },
    removeListener(event, listener) { listeners[event] = (listeners[event] ?? []).filter((l) => l !== listener); return provider; },
  };
  window.__glassboxTestWalletEmit = (event, value) => (listeners[event] ?? []).forEach((l) => l(value));
  const detail = Object.freeze({ info: Object.freeze(${JSON.stringify(info)}), provider });
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();`;

/** Installs the wallet into `page` (before it navigates). */
export async function installTestWallet(page: Page, options: TestWalletOptions): Promise<TestWallet> {
  const { account, rpcUrl, chainId } = options;
  const sender = createWalletClient({ account, chain: chainFor(chainId, rpcUrl), transport: http(rpcUrl) });
  let currentChain = options.startChainId ?? chainId;
  let connected = false;
  const refusals = new Set<string>();
  const requests: string[] = [];
  const emit = (event: string, value: unknown) => page.evaluate(([e, v]) => (window as unknown as { __glassboxTestWalletEmit: (e: string, v: unknown) => void }).__glassboxTestWalletEmit(e, v), [event, value] as const);

  const handle = async ({ method, params = [] }: RpcRequest): Promise<unknown> => {
    switch (method) {
      case "eth_requestAccounts":
        connected = true;
        return [account.address];
      case "eth_accounts":
        return connected ? [account.address] : [];
      case "eth_chainId":
        return numberToHex(currentChain);
      case "wallet_switchEthereumChain": {
        const wanted = Number((params[0] as { chainId: string }).chainId);
        if (wanted !== chainId) throw new ProviderError(4902, `Unrecognized chain ID ${wanted}.`);
        currentChain = wanted;
        await emit("chainChanged", numberToHex(wanted));
        return null;
      }
      case "wallet_addEthereumChain":
        return null;
      case "personal_sign":
        return account.signMessage({ message: { raw: params[0] as Hex } });
      case "eth_signTypedData_v4": {
        // Signed as a wallet does: over the domain fields its EIP712Domain type lists (none listed, none signed).
        const typed = JSON.parse(params[1] as string) as TypedDataDefinition & { types: Record<string, { name: string; type: string }[]> };
        return account.signTypedData({ domain: typed.domain, types: typed.types, primaryType: typed.primaryType, message: withIntegers(typed.types, typed.primaryType, typed.message) as Record<string, unknown> });
      }
      case "eth_sendTransaction": {
        if (currentChain !== chainId) throw new ProviderError(4901, `This test wallet only sends on chain ${chainId}.`);
        const tx = params[0] as { to: Hex; data?: Hex; value?: Hex; gas?: Hex };
        return sender.sendTransaction({ to: tx.to, data: tx.data, ...(tx.value ? { value: BigInt(tx.value) } : {}), ...(tx.gas ? { gas: BigInt(tx.gas) } : {}) });
      }
      default: {
        const response = await fetch(rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
        const body = (await response.json()) as { result?: unknown; error?: { code: number; message: string } };
        if (body.error) throw new ProviderError(body.error.code, body.error.message);
        return body.result;
      }
    }
  };

  await page.exposeFunction("__glassboxTestWallet", async (request: RpcRequest): Promise<Reply> => {
    requests.push(request.method);
    if (refusals.delete(request.method)) return { error: REFUSED };
    try {
      return { result: await handle(request) };
    } catch (error) {
      const e = error as { code?: unknown; message?: unknown; shortMessage?: unknown };
      return { error: { code: typeof e.code === "number" ? e.code : -32603, message: String(e.shortMessage ?? e.message ?? error) } };
    }
  });
  const info = {
    uuid: `test-${account.address}`,
    name: options.name ?? "Test Wallet",
    rdns: "dev.glassbox.test-wallet",
    icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 20 20'%3E%3Crect width='20' height='20' rx='4' fill='%231d4ed8'/%3E%3C/svg%3E",
  };
  await page.addInitScript(PAGE_PROVIDER(info));
  return {
    address: account.address,
    requests,
    refuseNext: (method) => void refusals.add(method),
  };
}
