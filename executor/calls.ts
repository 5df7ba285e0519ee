import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import type { Logger } from "pino";
import type { Hex } from "viem";
import { canonicalJson } from "../sdk/canonical-json.ts";
import { PACKAGE_NAME_PATTERN } from "../sdk/ids.ts";
import { isSemver } from "../sdk/manifest.ts";
import { PAYMENT_REQUIRED_HEADER, PAYMENT_RESPONSE_HEADER, type CallResponseBody } from "../sdk/protocol.ts";
import { quoteComposedCall, QuoteRefusedError, type ComposedQuote, type PricedDependency } from "../sdk/pricing.ts";
import { inputHashOf, outputHashOf, type ReceiptDependency } from "../sdk/receipt.ts";
import type { FunctionSignature } from "../sdk/wit.ts";
import type { RegistryView, VersionRecord } from "./chain.ts";
import { ApiError, shortMessage, type ErrorCode } from "./errors.ts";
import { flattenResolved } from "./dependencies.ts";
import type { ComponentHost, ComponentRef, ResolvedDependency, RunResult } from "./host.ts";
import type { PaymentGate } from "./payment-gate.ts";
import type { Announcement, IssuedReceipt, ReceiptIssuer } from "./receipts.ts";
import type { RoyaltyBook } from "./royalty-book.ts";
import { runtimeToApiError } from "./runtime-errors.ts";

export interface CallDeps {
  registry: RegistryView;
  host: ComponentHost;
  gate: PaymentGate;
  receipts: ReceiptIssuer;
  /** Unsettled royalties against the bond: refuses a paid call that would exceed it. */
  royalties: RoyaltyBook;
  chainId: number;
  log: Logger;
  /** Discovery metadata for every 402 (the `bazaar` extension naming the remote MCP tool). */
  discovery?: { extensionsFor(version: VersionRecord, functionName: string): Promise<Record<string, unknown> | undefined> };
}

export interface CallRequest {
  scope: string;
  nameAndVersion: string;
  functionName: string;
  args: unknown;
  paymentHeader: string | undefined;
  /** Origin of the request (scheme://host:port), for the x402 resource URL. */
  origin: string;
}

export interface CallResponse {
  status: 200 | 402;
  body: unknown;
  headers: Record<string, string>;
}

/**
 * A quote (sdk/pricing.ts): the version's own royalty (per-call price, or price + its own fuel part)
 * + one royalty per dependency version the deterministic dry run called + the executor fee.
 */
interface Quote {
  /** Own + every dependency's royalty: what the executor owes Settlement for this call. */
  royalty: bigint;
  own: bigint;
  /** The version's own fuel (the composition's minus its dependencies'): the receipt's `fuel`. */
  ownFuel: bigint;
  dependencies: ReceiptDependency[];
  fee: bigint;
}

const QUOTE_CACHE_SIZE = 2_000;

/**
 * POST /v1/call: resolve the version from the chain, check the function and arguments (before any
 * payment is asked for), quote, then through the payment gate: verify, run, make the payment final,
 * issue (sign + journal) the receipt, answer. A failed run is never charged (the payment is cancelled),
 * and a payment that cannot be made final withholds the result.
 */
export class CallService {
  private readonly quotes = new Map<string, Quote>();

  constructor(private readonly d: CallDeps) {}

  async call(req: CallRequest): Promise<CallResponse> {
    const version = await this.resolve(req.scope, req.nameAndVersion);
    const ref = version.hashes;
    const componentHash = ref.componentHash;
    if (!this.d.host.isReady(ref)) {
      throw new ApiError(
        404,
        "COMPONENT_NOT_AVAILABLE",
        `${version.name}@${version.version} is registered but its component is not available on this executor.`,
        `The maintainer uploads it with PUT /v1/blobs/${componentHash} (signed by the package owner), or call another executor.`,
      );
    }
    const signature = this.checkCall(ref, req.functionName, req.args);
    // Resolved once per call: the dry run that quotes and the paid run link the same versions.
    const dependencies = version.manifest?.dependencies?.length ? await this.d.host.resolveDependencies(version) : [];
    const linked = flattenResolved(dependencies);

    if (version.accessMode === "free" && linked.every((d) => d.accessMode === "free")) {
      const run = await this.run(ref, req.functionName, req.args, dependencies);
      return { status: 200, headers: {}, body: { result: run.result, fuelUsed: run.fuelUsed.toString() } };
    }

    // Only a paid call needs it (the quote cache key and the receipt).
    const inputHash = inputHashOf(toPositional(signature, req.args));
    const executor = this.d.registry.executor;
    const quote = await this.quote(version, req.functionName, req.args, inputHash, executor.feePerCall, dependencies);
    if (version.accessMode === "free" && quote.royalty === 0n) {
      // A free version whose run calls no paid dependency owes nothing: served free, like any free call.
      const run = await this.run(ref, req.functionName, req.args, dependencies);
      return { status: 200, headers: {}, body: { result: run.result, fuelUsed: run.fuelUsed.toString() } };
    }
    if (!executor.active) {
      throw new ApiError(
        503,
        "EXECUTOR_NOT_REGISTERED",
        "This executor is not registered on-chain, so it cannot take paid calls; nothing was charged.",
        "The operator starts it with --register (or calls registerExecutor) first.",
      );
    }
    const amount = quote.royalty + quote.fee;
    const accepts = await this.d.gate.requirements(amount);
    const resource = {
      url: `${req.origin}/v1/call/${version.name}@${version.version}/${req.functionName}`,
      description: `${version.name}@${version.version} ${req.functionName}: ${describeQuote(quote)} (USDC base units)`,
    };

    // Only a 402 carries discovery metadata: a paid call does not build it.
    const extensions = () => this.d.discovery?.extensionsFor(version, req.functionName);
    if (!req.paymentHeader) {
      this.d.royalties.check(quote.royalty);
      const challenge = await this.d.gate.challenge(accepts, resource, "PAYMENT-SIGNATURE header is required", undefined, await extensions());
      return {
        status: 402,
        headers: { [PAYMENT_REQUIRED_HEADER]: challenge.header },
        // Our error body plus the x402 fields (the header is authoritative; `error` stays ours).
        body: {
          x402Version: challenge.body.x402Version,
          resource: challenge.body.resource,
          accepts: challenge.body.accepts,
          ...(challenge.body.extensions ? { extensions: challenge.body.extensions } : {}),
          ...new ApiError(
            402,
            "PAYMENT_REQUIRED",
            `This call costs ${amount} USDC base units (${describeQuote(quote)}).`,
            "Pay with any x402 v2 client: batch-settlement (a channel: deposit once, then a voucher per call) or exact (USDC), and retry with PAYMENT-SIGNATURE.",
          ).toBody(),
        },
      };
    }

    const payload = this.d.gate.decode(req.paymentHeader);
    try {
      return await this.paidCall(version, req, payload, accepts, quote, inputHash, dependencies);
    } catch (error) {
      if (error instanceof ApiError && error.status === 402) {
        const reason = typeof error.details?.reason === "string" ? error.details.reason : `${error.code}: ${error.message}`;
        const challenge = await this.d.gate.challenge(accepts, resource, reason, payload, await extensions());
        throw new ApiError(402, error.code, error.message, error.hint, { ...error.details, paymentRequired: challenge.header });
      }
      throw error;
    }
  }

  private async paidCall(
    version: VersionRecord,
    req: CallRequest,
    payload: PaymentPayload,
    accepts: readonly PaymentRequirements[],
    quote: Quote,
    inputHash: Hex,
    dependencies: ResolvedDependency[],
  ): Promise<CallResponse> {
    const release = this.d.royalties.reserve(quote.royalty);
    let announcement: Announcement | undefined;
    try {
      const verified = await this.d.gate.verify(payload, accepts);
      // A voucher call reaches its receipt within a run: its receipt may share the next commit. An
      // exact payment first waits for its on-chain settlement, far longer than a commit waits.
      if (verified.scheme === "batch-settlement") announcement = this.d.receipts.announce();
      let run: { result: unknown; fuelUsed: bigint };
      try {
        run = await this.run(version.hashes, req.functionName, req.args, dependencies);
      } catch (error) {
        // Never charged: the voucher reservation is released, an exact authorization never submitted.
        await this.d.gate.cancel(verified, error);
        throw error;
      }
      // Final payment first (a result is released only once it is paid), then the receipt.
      const finalized = await this.d.gate.finalize(verified);
      const result = canonicalJson(run.result ?? null);
      let issued: IssuedReceipt;
      try {
        issued = await this.d.receipts.issue({
          versionId: version.versionId,
          functionName: req.functionName,
          payer: verified.payer,
          royalty: quote.own,
          executorFee: quote.fee,
          fuel: quote.ownFuel,
          inputHash,
          outputHash: outputHashOf(run.result),
          dependencies: quote.dependencies,
          paymentRef: finalized.paymentRef,
          scheme: verified.scheme,
          result,
          ...(verified.channelId ? { channelId: verified.channelId } : {}),
        }, announcement);
      } catch (error) {
        this.d.gate.rollback(finalized);
        if (verified.scheme === "exact") {
          this.d.log.error({ payer: verified.payer, transaction: finalized.paymentRef, err: shortMessage(error) }, "exact payment settled but its receipt could not be journaled");
        }
        throw new ApiError(500, "INTERNAL", `The receipt could not be journaled (${shortMessage(error)}); the result is withheld.`, verified.scheme === "exact" ? `Your payment settled in ${finalized.paymentRef}; the operator can see it in the log.` : "The channel was not charged; pay again.");
      }
      this.d.gate.released(finalized);
      this.d.log.debug({ receiptId: issued.id, version: `${version.name}@${version.version}`, fn: req.functionName, scheme: verified.scheme }, "paid call");
      const body: CallResponseBody = {
        result: run.result,
        fuelUsed: run.fuelUsed.toString(),
        receipt: issued.json,
        signature: issued.signature,
        receiptId: issued.id,
        payment: finalized.payment,
      };
      return { status: 200, headers: { [PAYMENT_RESPONSE_HEADER]: this.d.gate.responseHeader(finalized, issued.id) }, body };
    } finally {
      announcement?.withdraw();
      release();
    }
  }

  /** Resolves `scope` + `name@version` against the chain; 400 for malformed references, 404/410 otherwise. */
  async resolve(scope: string, nameAndVersion: string): Promise<VersionRecord> {
    const at = nameAndVersion.lastIndexOf("@");
    const shortName = at > 0 ? nameAndVersion.slice(0, at) : nameAndVersion;
    const version = at > 0 ? nameAndVersion.slice(at + 1) : "latest";
    const name = `${scope}/${shortName}`;
    if (!PACKAGE_NAME_PATTERN.test(name)) {
      throw new ApiError(400, "INVALID_REFERENCE", `"${name}" is not a package name.`, 'Use /v1/call/<scope>/<name>@<version>/<function>, e.g. /v1/call/acme/markdown@1.0.0/to-html.');
    }
    if (version !== "latest" && !isSemver(version)) {
      throw new ApiError(400, "INVALID_REFERENCE", `"${version}" is not a semver version.`, 'Use an exact version like "1.2.0" or "latest".');
    }
    const { record, packageKnown } = await this.d.registry.resolve(name, version);
    if (!packageKnown) throw new ApiError(404, "UNKNOWN_PACKAGE", `No package "${name}" is registered on chain ${this.d.chainId}.`, "Search the catalog for the exact name.");
    if (!record) {
      if (version === "latest") throw new ApiError(404, "UNKNOWN_VERSION", `"${name}" has no published, non-yanked version.`);
      throw new ApiError(404, "UNKNOWN_VERSION", `"${name}" has no version ${version}.`, `Call ${name}@latest or a published version.`);
    }
    if (record.yanked) {
      throw new ApiError(410, "VERSION_YANKED", `${name}@${version} was yanked by its maintainer.`, `Call ${name}@latest instead.`);
    }
    return record;
  }

  /** Function and argument checks against the WIT signature: nothing runs, nothing is charged. */
  private checkCall(ref: ComponentRef, functionName: string, args: unknown): FunctionSignature {
    const functions = this.d.host.functions(ref) ?? [];
    const signature = functions.find((f) => f.name === functionName);
    if (!signature) {
      throw new ApiError(404, "UNKNOWN_FUNCTION", `The component has no function "${functionName}".`, `Functions: ${functions.map((f) => f.name).join(", ") || "none"}.`);
    }
    const problem = this.d.host.checkArguments(ref, functionName, args);
    if (problem) {
      const code: ErrorCode = problem.kind === "unknown_function" ? "UNKNOWN_FUNCTION" : "INVALID_ARGUMENTS";
      throw new ApiError(code === "UNKNOWN_FUNCTION" ? 404 : 400, code, problem.message, describeSignature(signature), problem.parameter ? { parameter: problem.parameter } : undefined);
    }
    return signature;
  }

  /**
   * The exact amount of a paid call. A per-call version without dependencies is its price; anything
   * else is measured by a free, deterministic dry run (its result is not returned): the composition's
   * fuel and the calls and fuel of each dependency version, priced by sdk/pricing.ts. A dependency
   * costing more per call than its dependent declared refuses the call before any payment is asked for.
   */
  private async quote(version: VersionRecord, fn: string, args: unknown, inputHash: Hex, fee: bigint, dependencies: ResolvedDependency[]): Promise<Quote> {
    if (version.accessMode === "per-call" && dependencies.length === 0) return { royalty: version.price, own: version.price, ownFuel: 0n, dependencies: [], fee };
    const linked = flattenResolved(dependencies);
    // The linked versions are part of the key: a newer dependency uploaded here changes the price.
    const key = `${version.versionId}:${fn}:${inputHash}:${linked.map((d) => d.versionId).join(",")}`;
    const cached = this.quotes.get(key);
    if (cached) return { ...cached, fee };
    const run = await this.run(version.hashes, fn, args, dependencies);
    let composed: ComposedQuote;
    try {
      composed = quoteComposedCall(version, run.fuelUsed, linked.map(pricedDependency), run.dependencyUsage);
    } catch (error) {
      if (!(error instanceof QuoteRefusedError)) throw error;
      if (error.code === "DEPENDENCY_TOO_EXPENSIVE") {
        throw new ApiError(422, "DEPENDENCY_TOO_EXPENSIVE", `${error.message} Nothing was charged.`, "The dependent's maintainer raises maxRoyaltyPerCall in glassbox.json (a new version), or depends on a cheaper package.", error.details);
      }
      throw new ApiError(500, "INTERNAL", `The call could not be priced: ${error.message} Nothing was charged.`, undefined, error.details);
    }
    const quote: Quote = { royalty: composed.royalty, own: composed.own, ownFuel: composed.ownFuel, dependencies: composed.dependencies, fee };
    if (this.quotes.size >= QUOTE_CACHE_SIZE) this.quotes.delete(this.quotes.keys().next().value!);
    this.quotes.set(key, quote);
    return quote;
  }

  private async run(ref: ComponentRef, fn: string, args: unknown, dependencies: ResolvedDependency[]): Promise<RunResult> {
    try {
      return await this.d.host.run(ref, fn, args, dependencies);
    } catch (error) {
      throw runtimeToApiError(error);
    }
  }
}

/** "1000 royalty + 600 for 2 dependency versions + 500 executor fee" (the dependency part only for compositions). */
function describeQuote(quote: Quote): string {
  const dependencies = quote.dependencies.length === 0 ? "" : ` + ${quote.royalty - quote.own} for ${quote.dependencies.length} dependency version${quote.dependencies.length === 1 ? "" : "s"}`;
  return `${quote.own} royalty${dependencies} + ${quote.fee} executor fee`;
}

function pricedDependency(d: ResolvedDependency): PricedDependency {
  return { versionId: d.versionId, label: `${d.name}@${d.version}`, accessMode: d.accessMode, price: d.price, fuelPricePerMillion: d.fuelPricePerMillion, maxRoyaltyPerCall: d.maxRoyaltyPerCall };
}

/** Arguments in positional order (object form mapped by parameter name) for the input hash. */
function toPositional(signature: FunctionSignature, args: unknown): unknown[] {
  if (Array.isArray(args)) return args;
  const record = args as Record<string, unknown>;
  return signature.params.map((p) => record[p.name]);
}

function describeSignature(fn: FunctionSignature): string {
  return `Signature: ${fn.name}(${fn.params.map((p) => `${p.name}: ${typeName(p.type)}`).join(", ")}). Send a JSON array of arguments or an object keyed by parameter name.`;
}

function typeName(type: unknown): string {
  const t = type as { kind: string; name?: string; element?: unknown; some?: unknown };
  if (t.name) return t.name;
  if (t.kind === "list") return `list<${typeName(t.element)}>`;
  if (t.kind === "option") return `option<${typeName(t.some)}>`;
  return t.kind;
}
