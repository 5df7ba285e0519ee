import { registerExactEvmScheme } from "@x402/evm/exact/client";
import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from "@x402/fetch";
import type { Address, Hex, LocalAccount } from "viem";
import type { Deployment } from "../deployment.ts";
import { inputHashOf, outputHashOf, receiptFromJson, receiptId, recoverReceiptSigner, type Receipt, type ReceiptJson } from "../receipt.ts";
import { GlassboxError } from "./errors.ts";
import type { VersionView } from "./registry.ts";

/** What the executor answers for a successful call. */
export interface ExecutorCallResponse {
  result: unknown;
  fuelUsed: string;
  /** Present for paid calls. */
  receipt?: ReceiptJson;
  signature?: Hex;
  receiptId?: Hex;
  settlement?: { mode: string; status: string; transaction?: Hex };
}

export interface CallOutcome {
  result: unknown;
  fuelUsed: bigint;
  paid: boolean;
  receipt?: Receipt;
  receiptId?: Hex;
  signature?: Hex;
  /** The x402 PAYMENT-RESPONSE header, decoded. */
  paymentResponse?: unknown;
  executor: string;
}

export interface CallRequest {
  executorUrl: string;
  version: VersionView;
  functionName: string;
  /** Positional arguments in WIT parameter order. */
  args: unknown[];
  /** Refuse to pay more than this (USDC base units). */
  maxPayment?: bigint;
}

/**
 * Calls a capability through an executor. Paid versions are paid by the unmodified @x402/fetch
 * client (exact scheme, EIP-3009 USDC); the returned receipt is checked before it is trusted:
 * signed by a registered executor, for this version, function, payer, arguments and result.
 */
export async function callCapability(
  deployments: Deployment,
  account: LocalAccount | undefined,
  request: CallRequest,
  isActiveExecutor: (operator: Address) => Promise<boolean>,
): Promise<CallOutcome> {
  const { version, functionName, args } = request;
  const url = `${request.executorUrl}/v1/call/${version.name}@${version.version}/${functionName}`;
  const init: RequestInit = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(args) };
  let fetchFn: typeof fetch = fetch;
  if (version.accessMode !== "free") {
    if (!account) throw new GlassboxError("NO_WALLET", `${version.name}@${version.version} is paid: calling it needs a wallet.`, "Pass an account (or --keystore / --dev-account on the CLI).");
    const network = `eip155:${deployments.chainId}` as const;
    const client = new x402Client();
    registerExactEvmScheme(client, { signer: account, networks: [network] });
    client.setSpendControls({
      allowedAssets: [
        {
          network,
          asset: deployments.contracts.usdc,
          ...(request.maxPayment !== undefined ? { maxAmountPerPayment: request.maxPayment.toString() } : {}),
        },
      ],
    });
    fetchFn = wrapFetchWithPayment(fetch, client);
  }

  let response: Response;
  try {
    response = await fetchFn(url, init);
  } catch (error) {
    const message = (error as Error).message;
    if (/spendControls|exceeds/i.test(message)) {
      throw new GlassboxError("PAYMENT_ABOVE_LIMIT", `The executor asks more than you allowed: ${message}`, "Raise --max-price if the price is acceptable.");
    }
    throw new GlassboxError("CALL_FAILED", `Calling ${url} failed: ${message}`, "Is the executor running? `glassbox info` lists executors.");
  }
  const body = (await response.json().catch(() => undefined)) as (ExecutorCallResponse & { error?: { code: string; message: string; hint?: string } }) | undefined;
  if (!response.ok || !body) {
    throw new GlassboxError(
      body?.error?.code ?? `HTTP_${response.status}`,
      body?.error?.message ?? `The executor answered ${response.status} ${response.statusText}`,
      body?.error?.hint,
    );
  }

  const outcome: CallOutcome = { result: body.result, fuelUsed: BigInt(body.fuelUsed ?? 0), paid: false, executor: request.executorUrl };
  if (version.accessMode === "free") return outcome;

  if (!body.receipt || !body.signature) {
    throw new GlassboxError("RECEIPT_MISSING", "The executor took a payment but returned no signed receipt.", "Report this executor; keep the PAYMENT-RESPONSE as proof.");
  }
  const receipt = receiptFromJson(body.receipt);
  const signer = await recoverReceiptSigner(receipt, body.signature, deployments.chainId, deployments.contracts.settlement);
  const problems: string[] = [];
  if (signer.toLowerCase() !== receipt.executor.toLowerCase()) problems.push(`signed by ${signer}, not by the executor ${receipt.executor} it names`);
  if (receipt.versionId !== version.versionId) problems.push(`for version ${receipt.versionId}, not ${version.versionId}`);
  if (receipt.functionName !== functionName) problems.push(`for function ${receipt.functionName}, not ${functionName}`);
  if (account && receipt.payer.toLowerCase() !== account.address.toLowerCase()) problems.push(`payer ${receipt.payer} is not you`);
  if (receipt.inputHash !== inputHashOf(args)) problems.push("inputHash does not match the arguments sent");
  if (receipt.outputHash !== outputHashOf(body.result)) problems.push("outputHash does not match the result returned");
  if (receipt.royalty < version.price) problems.push(`royalty ${receipt.royalty} is below the registered price ${version.price}`);
  if (problems.length === 0 && !(await isActiveExecutor(receipt.executor))) problems.push(`signer ${receipt.executor} is not a registered executor`);
  if (problems.length > 0) {
    throw new GlassboxError("RECEIPT_INVALID", `The receipt does not verify: ${problems.join("; ")}.`, "Do not trust this result; report the executor.", body);
  }
  const id = receiptId(receipt, deployments.chainId, deployments.contracts.settlement);
  const paymentHeader = response.headers.get("PAYMENT-RESPONSE");
  Object.assign(outcome, { paid: true, receipt, receiptId: id, signature: body.signature });
  if (paymentHeader) outcome.paymentResponse = decodePaymentResponseHeader(paymentHeader);
  return outcome;
}
