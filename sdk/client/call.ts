import { toClientEvmSigner } from "@x402/evm";
import { BatchSettlementEvmScheme, type BatchSettlementDepositStrategyContext, type ClientChannelStorage } from "@x402/evm/batch-settlement/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import type { PaymentPayload } from "@x402/core/types";
import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { getAddress, isAddress, type Address, type Hex, type LocalAccount } from "viem";
import type { Deployment } from "../deployment.ts";
import { PAYMENT_RESPONSE_HEADER, ROUTES, type CallPayment, type CallResponseBody, type ErrorBody } from "../protocol.ts";
import { channelPaymentRef, receiptFromJson, receiptId, receiptToJson, type Receipt } from "../receipt.ts";
import type { ChainClients } from "./chain.ts";
import { GlassboxError, PaymentSignedError } from "./errors.ts";
import { readReceiptChainFacts, receiptProblems } from "./receipt-check.ts";
import type { ReceiptStore } from "./receipt-store.ts";
import type { VersionView } from "./registry.ts";

/** How a paid call is paid: through a payment channel (x402 `batch-settlement`, the default) or `exact`. */
export type PayScheme = "channel" | "exact";

/** What the SDK asks before it locks USDC in a channel (first use, or when the balance runs out). */
export interface DepositOffer {
  /** The executor the channel pays (its receiver). */
  executor: Address;
  channelId: Hex;
  /** The least that covers this call. */
  minimum: bigint;
  /** What the stock x402 client would deposit (a few calls' worth, or the executor's announced minimum). */
  suggested: bigint;
  /** USDC already in the channel. */
  balance: bigint;
  /** This call's price. */
  price: bigint;
  /** True when the channel exists and needs more. */
  topUp: boolean;
  /** The most the stock client deposits under the per-call limit (5 calls' worth of maxPayment); none without a limit. */
  maximum?: bigint;
}

/** The answer to a DepositOffer: an amount (at least `minimum`), or false to refuse (the call is not made). */
export type DepositDecision = bigint | false;

export interface ChannelPaymentOptions {
  /** Deposit exactly this much whenever the channel needs funds (opening or topping up). */
  deposit?: bigint;
  /** Asked whenever the channel needs funds, when `deposit` is not given. Without either, no deposit is made. */
  onDeposit?: (offer: DepositOffer) => DepositDecision | Promise<DepositDecision>;
}

export interface CallOutcome {
  result: unknown;
  fuelUsed: bigint;
  paid: boolean;
  receipt?: Receipt;
  receiptId?: Hex;
  signature?: Hex;
  /** How the call was paid (scheme, amount, channel state or transaction), from the executor's answer. */
  payment?: CallPayment;
  /** The x402 PAYMENT-RESPONSE header, decoded. */
  paymentResponse?: unknown;
  /** A deposit this call made into the channel (opening or topping it up). */
  deposit?: { channelId: Hex; amount: bigint };
  executor: string;
}

export interface CallRequest extends ChannelPaymentOptions {
  executorUrl: string;
  version: VersionView;
  functionName: string;
  /** Positional arguments in WIT parameter order. */
  args: unknown[];
  /** Refuse to pay more than this per call (USDC base units). */
  maxPayment?: bigint;
  /** Default `channel`; an executor that offers no channel is paid with `exact`. */
  scheme?: PayScheme;
  /**
   * The only address a payment may go to: the operator whose on-chain standing was checked. An executor
   * that asks to be paid elsewhere is refused before anything is signed.
   */
  payee?: Address;
}

/** Where the paying client keeps its state. */
export interface PaymentState {
  /** The stock client's channel storage (default in memory; the CLI keeps one file store per payer). */
  channelStorage?: ClientChannelStorage;
  /** Every verified receipt is added here. */
  receiptStore?: ReceiptStore;
}

const X402_SCHEME = { channel: "batch-settlement", exact: "exact" } as const;

/**
 * Calls a capability through an executor. A paid version is paid by the unmodified @x402/fetch client with the
 * stock @x402/evm `batch-settlement` client scheme registered first (a deposit once, then a signed voucher per
 * call) and `exact` second. The returned receipt v2 is verified before it is trusted (receipt-check.ts) and kept
 * in the receipt store: it is the payer's proof if the executor never settles the royalties it owes.
 */
export async function callCapability(deployment: Deployment, chain: ChainClients, account: LocalAccount | undefined, request: CallRequest, state: PaymentState = {}): Promise<CallOutcome> {
  const sent: SentPayment = {};
  try {
    return await callOnce(deployment, chain, account, request, state, sent);
  } catch (error) {
    // Once a payment left this process, the failure belongs to the executor that holds it (no failover).
    if (!sent.payload || error instanceof PaymentSignedError) throw error;
    throw new PaymentSignedError(request.executorUrl, sent.payload, sent.answered ?? false, error);
  }
}

/** What callOnce sent: the signed payment (once the x402 client created it) and whether an answer came back. */
interface SentPayment {
  payload?: PaymentPayload;
  answered?: boolean;
}

async function callOnce(deployment: Deployment, chain: ChainClients, account: LocalAccount | undefined, request: CallRequest, state: PaymentState, sent: SentPayment): Promise<CallOutcome> {
  const { version, functionName, args } = request;
  const url = `${request.executorUrl}${ROUTES.call(version.name, version.version, functionName)}`;
  const init: RequestInit = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(args) };
  const scheme = request.scheme ?? "channel";
  let fetchFn: typeof fetch = fetch;
  let selected: { payTo: Address; amount: bigint; scheme: string } | undefined;
  let deposit: { channelId: Hex; amount: bigint } | undefined;
  // Errors thrown inside the x402 client come back wrapped in its own message: keep ours to rethrow as is.
  let refusal: GlassboxError | undefined;

  if (version.accessMode !== "free") {
    if (!account) throw new GlassboxError("NO_WALLET", `${version.name}@${version.version} is paid: calling it needs a wallet.`, "Pass an account (or --keystore / --dev-account on the CLI).");
    const network = `eip155:${deployment.chainId}` as const;
    const signer = toClientEvmSigner(account, chain.publicClient);
    const depositStrategy = async (ctx: BatchSettlementDepositStrategyContext): Promise<string> => {
      try {
        const amount = await decideDeposit(request, ctx);
        deposit = { channelId: ctx.channelId, amount };
        return amount.toString();
      } catch (error) {
        if (error instanceof GlassboxError) refusal = error;
        throw error;
      }
    };
    const client = new x402Client()
      .register(network, new BatchSettlementEvmScheme(signer, { depositStrategy, ...(state.channelStorage ? { storage: state.channelStorage } : {}) }))
      .register(network, new ExactEvmScheme(signer))
      .registerPolicy((_version, offered) => {
        const requirements = request.payee ? offered.filter((r) => sameAddress(r.payTo, request.payee!)) : offered;
        if (requirements.length === 0 && offered.length > 0) {
          refusal = new GlassboxError(
            "PAYEE_MISMATCH",
            `${request.executorUrl} asks to be paid at ${[...new Set(offered.map((r) => r.payTo))].join(", ")}, not at its operator ${request.payee}: nothing was signed.`,
            "Its /v1/info and its payment requirements disagree; call another executor.",
          );
          return requirements;
        }
        if (scheme === "exact") return requirements.filter((r) => r.scheme === X402_SCHEME.exact);
        const channels = requirements.filter((r) => r.scheme === X402_SCHEME.channel);
        return channels.length > 0 ? channels : requirements;
      })
      .onAfterPaymentCreation(async ({ selectedRequirements, paymentPayload }) => {
        sent.payload = paymentPayload;
        selected = { payTo: getAddress(selectedRequirements.payTo), amount: BigInt(selectedRequirements.amount), scheme: selectedRequirements.scheme };
      });
    client.setSpendControls({
      allowedAssets: [{ network, asset: deployment.contracts.usdc, ...(request.maxPayment !== undefined ? { maxAmountPerPayment: request.maxPayment.toString() } : {}) }],
    });
    fetchFn = wrapFetchWithPayment(fetch, client);
  }

  let response: Response;
  try {
    response = await fetchFn(url, init);
  } catch (error) {
    if (refusal) throw refusal;
    const message = (error as Error).message;
    if (/spendControls|exceeds/i.test(message)) {
      throw new GlassboxError("PAYMENT_ABOVE_LIMIT", `The executor asks more than you allowed: ${message}`, "Raise --max-price if the price is acceptable.");
    }
    throw new GlassboxError("CALL_FAILED", `Calling ${url} failed: ${message}`, "Is the executor running? `glassbox info` lists executors.");
  }
  sent.answered = true;
  const body = (await response.json().catch(() => undefined)) as (CallResponseBody & Partial<ErrorBody>) | undefined;
  if (!response.ok || !body) {
    throw new GlassboxError(
      body?.error?.code ?? `HTTP_${response.status}`,
      body?.error?.message ?? `The executor answered ${response.status} ${response.statusText}`,
      body?.error?.hint,
      body?.error?.details,
    );
  }

  const outcome: CallOutcome = { result: body.result, fuelUsed: BigInt(body.fuelUsed ?? 0), paid: false, executor: request.executorUrl };
  if (version.accessMode === "free") return outcome;

  if (!body.receipt || !body.signature) {
    throw new GlassboxError("RECEIPT_MISSING", "The executor took a payment but returned no signed receipt.", "Report this executor; keep the PAYMENT-RESPONSE as proof.");
  }
  const receipt = receiptFromJson(body.receipt);
  const payment = body.payment;
  const paymentRef =
    payment?.scheme === "batch-settlement" && payment.channelId && payment.chargedCumulativeAmount !== undefined
      ? channelPaymentRef(payment.channelId, BigInt(payment.chargedCumulativeAmount))
      : payment?.scheme === "exact"
        ? payment.transaction
        : undefined;
  const facts = await readReceiptChainFacts(chain, deployment, receipt);
  const problems = await receiptProblems(
    receipt,
    body.signature,
    {
      versionId: version.versionId,
      functionName,
      payer: account!.address,
      args,
      result: body.result,
      ...(selected ? { payee: selected.payTo } : {}),
      ...(payment ? { charged: BigInt(payment.amount) } : {}),
      ...(paymentRef ? { paymentRef } : {}),
    },
    facts,
    deployment,
  );
  if (selected && payment && BigInt(payment.amount) > selected.amount) problems.push(`charged ${payment.amount}, more than the ${selected.amount} quoted`);
  if (problems.length > 0) {
    throw new GlassboxError("RECEIPT_INVALID", `The receipt does not verify: ${problems.join("; ")}.`, "Do not trust this result; report the executor.", body);
  }
  const id = receiptId(receipt, deployment.chainId, deployment.contracts.settlement);
  Object.assign(outcome, { paid: true, receipt, receiptId: id, signature: body.signature });
  if (payment) outcome.payment = payment;
  if (deposit) outcome.deposit = deposit;
  const paymentHeader = response.headers.get(PAYMENT_RESPONSE_HEADER);
  if (paymentHeader) outcome.paymentResponse = decodePaymentResponseHeader(paymentHeader);
  await state.receiptStore?.add({
    receiptId: id,
    receipt: receiptToJson(receipt),
    signature: body.signature,
    executorUrl: request.executorUrl,
    chainId: deployment.chainId,
    settlement: deployment.contracts.settlement,
    scheme: payment?.scheme ?? (scheme === "exact" ? "exact" : "batch-settlement"),
    charged: payment?.amount ?? (receipt.royalty + receipt.executorFee).toString(),
    storedAt: new Date().toISOString(),
  });
  return outcome;
}

/** The deposit to sign, from the caller's amount or answer; never a deposit the caller did not agree to. */
async function decideDeposit(request: ChannelPaymentOptions, ctx: BatchSettlementDepositStrategyContext): Promise<bigint> {
  const minimum = BigInt(ctx.minimumDepositAmount);
  const offer: DepositOffer = {
    executor: getAddress(ctx.channelConfig.receiver),
    channelId: ctx.channelId,
    minimum,
    suggested: BigInt(ctx.depositAmount),
    balance: BigInt(ctx.currentBalance),
    price: BigInt(ctx.requestAmount),
    topUp: BigInt(ctx.currentBalance) > 0n,
    ...(ctx.maxDeposit !== undefined ? { maximum: BigInt(ctx.maxDeposit) } : {}),
  };
  let amount: bigint;
  if (request.deposit !== undefined) amount = request.deposit;
  else if (request.onDeposit) {
    const answer = await request.onDeposit(offer);
    if (answer === false) throw new GlassboxError("DEPOSIT_DECLINED", `The channel to ${offer.executor} needs a deposit of at least ${minimum} and none was agreed to: nothing was paid.`, "Agree to a deposit, pass --deposit AMOUNT, or pay with --scheme exact.");
    amount = answer;
  } else {
    throw new GlassboxError(
      "DEPOSIT_REQUIRED",
      `Paying through a channel to ${offer.executor} needs a deposit of at least ${minimum} (${offer.topUp ? "top-up" : "first use"}); no deposit amount was given.`,
      "Pass a deposit (SDK: deposit or onDeposit; CLI: --deposit AMOUNT or --yes), open one with `glassbox channel open`, or pay with --scheme exact.",
      { offer: { ...offer, minimum: minimum.toString(), suggested: offer.suggested.toString(), balance: offer.balance.toString(), price: offer.price.toString(), ...(offer.maximum !== undefined ? { maximum: offer.maximum.toString() } : {}) } },
    );
  }
  if (amount < minimum) throw new GlassboxError("DEPOSIT_TOO_SMALL", `A deposit of ${amount} does not cover this call: at least ${minimum} is needed.`, `Deposit at least ${minimum}.`);
  if (ctx.maxDeposit !== undefined && amount > BigInt(ctx.maxDeposit)) {
    throw new GlassboxError("DEPOSIT_ABOVE_LIMIT", `A deposit of ${amount} is more than 5 times your per-call limit allows (${ctx.maxDeposit}).`, "Lower the deposit or raise --max-price.");
  }
  return amount;
}

function sameAddress(a: string, b: Address): boolean {
  return isAddress(a, { strict: false }) && getAddress(a) === getAddress(b);
}
