import { keccak256, type Address, type Hex, type LocalAccount } from "viem";
import { generatePrivateKey } from "viem/accounts";

/** EIP-3009 TransferWithAuthorization: exactly the fields an x402 v2 `exact` payment carries. */
export interface TransferAuthorization {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
}

/** The fields both EIP-3009 authorizations sign. */
const AUTHORIZATION_FIELDS = [
  { name: "from", type: "address" },
  { name: "to", type: "address" },
  { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" },
  { name: "validBefore", type: "uint256" },
  { name: "nonce", type: "bytes32" },
] as const;

/** EIP-3009 ReceiveWithAuthorization: only the payee may submit it (channel deposits use it through the collector). */
export const RECEIVE_WITH_AUTHORIZATION_TYPES = { ReceiveWithAuthorization: AUTHORIZATION_FIELDS } as const;

export const TRANSFER_WITH_AUTHORIZATION_TYPES = { TransferWithAuthorization: AUTHORIZATION_FIELDS } as const;

/** USDC's EIP-712 domain ("USD Coin", "2"): Circle's FiatToken and LocalUSDC alike. */
export function usdcDomain(chainId: number, usdc: Address) {
  return { name: "USD Coin", version: "2", chainId, verifyingContract: usdc } as const;
}

/** A fresh random 32-byte nonce (EIP-3009 nonces are random, not sequential). */
export function randomNonce(): Hex {
  return keccak256(generatePrivateKey());
}

/** Signs a TransferWithAuthorization of `value` USDC base units from `payer` to `to`. */
export async function signTransferAuthorization(
  payer: LocalAccount,
  params: { usdc: Address; chainId: number; to: Address; value: bigint; nonce?: Hex; validAfter?: bigint; validBefore?: bigint },
): Promise<{ authorization: TransferAuthorization; signature: Hex }> {
  const authorization: TransferAuthorization = {
    from: payer.address,
    to: params.to,
    value: params.value,
    validAfter: params.validAfter ?? 0n,
    // A day ahead: the local chain clock can run ahead of wall time under load.
    validBefore: params.validBefore ?? BigInt(Math.floor(Date.now() / 1000) + 86_400),
    nonce: params.nonce ?? randomNonce(),
  };
  const signature = await payer.signTypedData({
    domain: usdcDomain(params.chainId, params.usdc),
    types: TRANSFER_WITH_AUTHORIZATION_TYPES,
    primaryType: "TransferWithAuthorization",
    message: authorization,
  });
  return { authorization, signature };
}
