import { getAddress, verifyMessage, type Address, type Hex } from "viem";

/**
 * The EIP-191 (personal_sign) message a package owner signs to upload one blob to one executor.
 * It names the blob's sha256, the chain and the executor, so a signature cannot be replayed
 * against another executor or chain. Header: `X-Glassbox-Signature: <0x signature>`.
 */
export function uploadMessage(blobHash: Hex, chainId: number, executor: Address): string {
  return `glassbox-upload:${blobHash.toLowerCase()}:${chainId}:${getAddress(executor).toLowerCase()}`;
}

export { UPLOAD_SIGNATURE_HEADER } from "./protocol.ts";

/** True when `signature` is `signer`'s personal_sign of uploadMessage(blobHash, chainId, executor). */
export async function verifyUploadSignature(args: {
  blobHash: Hex;
  chainId: number;
  executor: Address;
  signer: Address;
  signature: Hex;
}): Promise<boolean> {
  try {
    return await verifyMessage({
      address: args.signer,
      message: uploadMessage(args.blobHash, args.chainId, args.executor),
      signature: args.signature,
    });
  } catch {
    return false;
  }
}
