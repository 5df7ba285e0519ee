import { toFacilitatorEvmSigner, type FacilitatorEvmSigner } from "@x402/evm";
import type { Abi, Address, Hex, PublicClient, TypedData } from "viem";
import type { OperatorSender } from "./operator.ts";

/**
 * The in-process facilitators' signer: reads through the executor's public client, writes through the
 * operator's single transaction queue (so facilitator transactions never collide with the settlers' on a
 * nonce). x402 passes ABIs and typed-data types as plain arrays/records: they are checked to be ABIs and
 * typed data before viem sees them.
 */
export function operatorFacilitatorSigner(client: PublicClient, sender: OperatorSender): FacilitatorEvmSigner {
  // The stock verifiers ask for a payer's code once per signature check (EOA or ERC-1271): memoize it
  // briefly so a burst of payments from one payer costs one getCode.
  const codeCache = new Map<string, { at: number; code: Promise<Hex | undefined> }>();
  const getCode = (args: { address: Address }): Promise<Hex | undefined> => {
    const key = args.address.toLowerCase();
    const now = Date.now();
    const hit = codeCache.get(key);
    if (hit && now - hit.at < 2_000) return hit.code;
    if (codeCache.size > 10_000) codeCache.clear();
    const code = client.getCode(args);
    codeCache.set(key, { at: now, code });
    code.catch(() => codeCache.delete(key));
    return code;
  };
  return toFacilitatorEvmSigner({
    address: sender.address,
    readContract: (args) => client.readContract({ address: args.address, abi: asAbi(args.abi), functionName: args.functionName, args: args.args ?? [] }),
    verifyTypedData: (args) =>
      client.verifyTypedData({
        address: args.address,
        domain: args.domain,
        types: asTypedData(args.types),
        primaryType: args.primaryType,
        message: args.message,
        signature: args.signature,
      }),
    writeContract: (args) => sender.write({ address: args.address, abi: asAbi(args.abi), functionName: args.functionName, args: args.args, gas: args.gas }),
    sendTransaction: (args) => sender.send(args),
    waitForTransactionReceipt: (args) => client.waitForTransactionReceipt(args),
    getCode,
  });
}

function isAbi(value: readonly unknown[]): value is Abi {
  return value.every((item) => typeof item === "object" && item !== null && "type" in item);
}

function asAbi(value: readonly unknown[]): Abi {
  if (!isAbi(value)) throw new TypeError("x402 passed an ABI whose items are not ABI entries");
  return value;
}

function isTypedData(value: Record<string, unknown>): value is TypedData {
  return Object.values(value).every(
    (fields) => Array.isArray(fields) && fields.every((f) => typeof f === "object" && f !== null && "name" in f && "type" in f),
  );
}

function asTypedData(value: Record<string, unknown>): TypedData {
  if (!isTypedData(value)) throw new TypeError("x402 passed EIP-712 types that are not {name, type} lists");
  return value;
}
