/**
 * The stock x402 batch-settlement stack on a local chain, for tests: an in-process facilitator (stock
 * @x402/evm facilitator scheme signing with a dev key), a tiny Hono resource server protected by the stock
 * @x402/hono middleware with the stock server scheme, and a paying @x402/fetch client with the stock client scheme.
 */
import { serve, type ServerType } from "@hono/node-server";
import { x402Client } from "@x402/core/client";
import { x402Facilitator } from "@x402/core/facilitator";
import type { FacilitatorClient } from "@x402/core/server";
import type { Network } from "@x402/core/types";
import { toClientEvmSigner, toFacilitatorEvmSigner, type FacilitatorEvmSigner } from "@x402/evm";
import { BatchSettlementEvmScheme as BatchSettlementClientScheme } from "@x402/evm/batch-settlement/client";
import { BatchSettlementEvmScheme as BatchSettlementFacilitatorScheme } from "@x402/evm/batch-settlement/facilitator";
import { BatchSettlementEvmScheme as BatchSettlementServerScheme } from "@x402/evm/batch-settlement/server";
import { wrapFetchWithPayment } from "@x402/fetch";
import { paymentMiddleware, x402ResourceServer } from "@x402/hono";
import { Hono } from "hono";
import type { AddressInfo } from "node:net";
import {
  createPublicClient,
  createWalletClient,
  hashTypedData,
  http,
  isAddress,
  isHex,
  publicActions,
  type Abi,
  type Address,
  type TypedDataDomain,
  type TypedDataParameter,
  type LocalAccount,
  type PublicClient,
} from "viem";
import { hardhat } from "viem/chains";

/** EIP-712 domain of LocalUSDC (the token's receiveWithAuthorization is signed under it). */
export const USDC_EIP712 = { name: "USD Coin", version: "2" } as const;
/** The scheme's shortest withdraw delay: the payer's exit window in these tests. */
export const WITHDRAW_DELAY = 900;

export const networkOf = (chainId: number): Network => `eip155:${chainId}`;

/** viem's ABI type from the untyped ABI arrays x402 passes around (each entry is an ABI item object). */
function toAbi(abi: readonly unknown[]): Abi {
  const items: Abi = abi.filter(
    (item): item is Abi[number] => typeof item === "object" && item !== null && "type" in item,
  );
  if (items.length !== abi.length) throw new Error("x402 passed an ABI with entries that are not ABI items");
  return items;
}

/** viem's typed-data shapes from the loose records x402 passes (validated, not cast). */
function toTypedData(args: { domain: Record<string, unknown>; types: Record<string, unknown> }): {
  domain: TypedDataDomain;
  types: Record<string, readonly TypedDataParameter[]>;
} {
  const types: Record<string, readonly TypedDataParameter[]> = {};
  for (const [name, fields] of Object.entries(args.types)) {
    if (!Array.isArray(fields)) throw new Error(`x402 typed data: type ${name} is not a field list`);
    types[name] = fields.filter(
      (field): field is TypedDataParameter =>
        typeof field === "object" && field !== null && typeof field.name === "string" && typeof field.type === "string",
    );
  }
  const { name, version, chainId, verifyingContract, salt } = args.domain;
  const domain: TypedDataDomain = {
    ...(typeof name === "string" ? { name } : {}),
    ...(typeof version === "string" ? { version } : {}),
    ...(typeof chainId === "number" || typeof chainId === "bigint" ? { chainId } : {}),
    ...(typeof verifyingContract === "string" && isAddress(verifyingContract) ? { verifyingContract } : {}),
    ...(typeof salt === "string" && isHex(salt) ? { salt } : {}),
  };
  return { domain, types };
}

const isNetwork = (value: string): value is Network => /^[-a-z0-9]+:[-_a-zA-Z0-9*]+$/.test(value);

export function localChain(rpcUrl: string) {
  return { ...hardhat, rpcUrls: { default: { http: [rpcUrl] } } };
}

export function publicClientFor(rpcUrl: string): PublicClient {
  return createPublicClient({ chain: localChain(rpcUrl), transport: http(rpcUrl) });
}

/** A facilitator signer that sends transactions with `account` (one at a time, as the stock facilitator does). */
export function facilitatorSigner(account: LocalAccount, rpcUrl: string): FacilitatorEvmSigner {
  const wallet = createWalletClient({ account, chain: localChain(rpcUrl), transport: http(rpcUrl) }).extend(
    publicActions,
  );
  return toFacilitatorEvmSigner({
    address: account.address,
    readContract: (args) =>
      wallet.readContract({ address: args.address, abi: toAbi(args.abi), functionName: args.functionName, args: args.args }),
    verifyTypedData: (args) =>
      wallet.verifyHash({
        address: args.address,
        hash: hashTypedData({ ...toTypedData(args), primaryType: args.primaryType, message: args.message }),
        signature: args.signature,
      }),
    writeContract: (args) =>
      wallet.writeContract({
        address: args.address,
        abi: toAbi(args.abi),
        functionName: args.functionName,
        args: args.args,
        ...(args.gas !== undefined ? { gas: args.gas } : {}),
        ...(args.dataSuffix !== undefined ? { dataSuffix: args.dataSuffix } : {}),
      }),
    sendTransaction: (args) => wallet.sendTransaction({ to: args.to, data: args.data }),
    waitForTransactionReceipt: (args) => wallet.waitForTransactionReceipt(args),
    getCode: (args) => wallet.getCode(args),
  });
}

/** The stock facilitator, in process, behind the FacilitatorClient interface a resource server talks to. */
export function inProcessFacilitator(operator: LocalAccount, rpcUrl: string, chainId: number): FacilitatorClient {
  const signer = facilitatorSigner(operator, rpcUrl);
  const facilitator = new x402Facilitator();
  facilitator.register(networkOf(chainId), new BatchSettlementFacilitatorScheme(signer));
  return {
    verify: (payload, requirements) => facilitator.verify(payload, requirements),
    settle: (payload, requirements) => facilitator.settle(payload, requirements),
    getSupported: async () => {
      const supported = facilitator.getSupported();
      return {
        ...supported,
        kinds: supported.kinds.map((kind) => {
          if (!isNetwork(kind.network)) throw new Error(`facilitator reported a malformed network ${kind.network}`);
          return { ...kind, network: kind.network };
        }),
      };
    },
  };
}

export interface PaidServer {
  url: string;
  network: Network;
  /** The stock server scheme (its channel storage and the channel manager that claims and settles). */
  scheme: BatchSettlementServerScheme;
  facilitator: FacilitatorClient;
  /** How many times the protected handler ran. */
  served(): number;
  close(): Promise<void>;
}

/**
 * A tiny Hono resource server: `GET /paid` costs `price` USDC base units through the `batch-settlement` scheme;
 * `receiver` is the channel receiver, receiver authorizer and facilitator signer.
 */
export async function startPaidServer(options: {
  receiver: LocalAccount;
  rpcUrl: string;
  chainId: number;
  usdc: Address;
  price: bigint;
}): Promise<PaidServer> {
  const network = networkOf(options.chainId);
  const facilitator = inProcessFacilitator(options.receiver, options.rpcUrl, options.chainId);
  const scheme = new BatchSettlementServerScheme(options.receiver.address, {
    receiverAuthorizerSigner: options.receiver,
    withdrawDelay: WITHDRAW_DELAY,
  });
  const resourceServer = new x402ResourceServer(facilitator).register(network, scheme);
  let served = 0;
  const app = new Hono();
  app.use(
    paymentMiddleware(
      {
        "GET /paid": {
          accepts: {
            scheme: "batch-settlement",
            network,
            payTo: options.receiver.address,
            price: { amount: options.price.toString(), asset: options.usdc, extra: { ...USDC_EIP712 } },
            maxTimeoutSeconds: 300,
          },
          description: "a paid answer",
          mimeType: "application/json",
        },
      },
      resourceServer,
    ),
  );
  app.get("/paid", (c) => {
    served += 1;
    return c.json({ answer: 42, served });
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/paid`,
    network,
    scheme,
    facilitator,
    served: () => served,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

export interface ChannelPayer {
  fetch: typeof fetch;
  scheme: BatchSettlementClientScheme;
}

/** An unmodified @x402/fetch client paying through a channel (deposit = `depositMultiplier` x the price). */
export function channelPayer(
  account: LocalAccount,
  options: { rpcUrl: string; chainId: number; usdc: Address; depositMultiplier?: number },
): ChannelPayer {
  const network = networkOf(options.chainId);
  const scheme = new BatchSettlementClientScheme(toClientEvmSigner(account, publicClientFor(options.rpcUrl)), {
    depositPolicy: { depositMultiplier: options.depositMultiplier ?? 10 },
  });
  const client = new x402Client().register(network, scheme);
  client.setSpendControls({ allowedAssets: [{ network, asset: options.usdc }] });
  return { fetch: wrapFetchWithPayment(fetch, client), scheme };
}
