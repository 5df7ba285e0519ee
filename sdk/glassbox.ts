import type { Address, Hex, LocalAccount } from "viem";
import { capabilityRegistryAbi, localUsdcAbi, settlementAbi } from "./abi.ts";
import type { AccountResponse, PackageResponse, SearchResponse } from "./catalog-api.ts";
import type { Deployment } from "./deployment.ts";
import { packageIdOf, parsePackageRef, versionIdOf } from "./ids.ts";
import { PAYER_SIGNATURE_HEADER, receiptResultMessage, ROUTES, type InfoBody } from "./protocol.ts";
import { outputHashOf, receiptFromJson, type Receipt, type ReceiptJson } from "./receipt.ts";
import { InMemoryClientChannelStorage, type ClientChannelStorage } from "@x402/evm/batch-settlement/client";
import { callCapability, type CallOutcome, type ChannelPaymentOptions, type PayScheme } from "./client/call.ts";
import { ChannelManager } from "./client/channels.ts";
import { ReceiptAuditor, type ReceiptAudit, type SlashSubmission } from "./client/receipt-audit.ts";
import { InMemoryReceiptStore, type ReceiptStore, type StoredReceipt } from "./client/receipt-store.ts";
import { CatalogClient, type SearchFilters } from "./client/catalog.ts";
import { createChainClients, sendContractTx, type ChainClients, type WriteArgs, type WriteFunctionName } from "./client/chain.ts";
import { GlassboxError, type PaymentSignedError } from "./client/errors.ts";
import { callWithFailover, ExecutorChooser, noExecutorInGoodStanding, paymentRefOf, receiptIdForPayment } from "./client/executor-choice.ts";
import { getJson, Publisher, type CapabilityFiles, type ProgressReporter, type PublishResult, type UploadResult } from "./client/publish.ts";
import { RegistryReader, type VersionView } from "./client/registry.ts";
import { Licences, type ComponentCache, type LicensedCapability, type LicenceStatus } from "./client/licences.ts";

export interface GlassboxOptions {
  rpcUrl: string;
  deployment: Deployment;
  /** Signs transactions, uploads and x402 payments. Read-only without it. */
  account?: LocalAccount;
  /** The catalog (search, earnings history). */
  indexerUrl?: string;
  /** An executor to consider for calls (and the default for uploads); calls choose among it, `executorUrls` and the catalog's. */
  executorUrl?: string;
  /** More executors to choose among for calls (e.g. a local stack's), besides the catalog's active ones. */
  executorUrls?: string[];
  /**
   * Chain clients to use instead of HTTP ones over rpcUrl: e.g. in a browser, a wallet client over the
   * wallet's EIP-1193 provider, so transactions are sent (and signed) by the wallet.
   */
  clients?: ChainClients;
  /**
   * The stock x402 client's channel storage (channel state between calls). In memory by default; the CLI
   * keeps one FileClientChannelStorage per payer so channels survive across runs.
   */
  channelStorage?: ClientChannelStorage;
  /** Where every verified receipt is kept (in memory by default; the CLI keeps files). */
  receiptStore?: ReceiptStore;
}

/** Options of Glassbox.call. */
export interface CallOptions extends ChannelPaymentOptions {
  /** Call this executor only (no choice, no failover). */
  executorUrl?: string;
  /** Refuse to pay more than this per call (USDC base units). */
  maxPayment?: bigint;
  /** `channel` (default: x402 batch-settlement, a deposit once then a voucher per call) or `exact`. */
  scheme?: PayScheme;
}

export interface ExecutorInfo {
  operator: Address;
  endpoint: string;
  feePerCall: string;
}

/**
 * Everything an agent, a maintainer or a tool does with Glassbox, in one object:
 * publish and fork capabilities, search the catalog, call capabilities paying over x402,
 * and claim earnings. The chain is the source of truth; servers are only trusted for what
 * can be checked (receipts are verified, prices come from the registry).
 */
export class Glassbox {
  readonly chain: ChainClients;
  readonly registry: RegistryReader;
  readonly catalog?: CatalogClient;
  /** The payer's channels to executors (open, top up, status, close). */
  readonly channels: ChannelManager;
  /** One channel record store for the x402 client and the channel manager, so status sees what calls charged. */
  private readonly channelStorage: ClientChannelStorage;
  readonly receiptStore: ReceiptStore;
  private readonly publisher: Publisher;
  /** Measured latencies and on-chain standing of executors, across calls. */
  readonly executorChooser: ExecutorChooser;
  /** Licences to run versions locally: offers, purchases, signed downloads. */
  readonly licences: Licences;

  constructor(readonly options: GlassboxOptions) {
    this.chain = options.clients ?? createChainClients(options.rpcUrl, options.deployment.chainId, options.account);
    this.registry = new RegistryReader(this.chain, options.deployment);
    this.publisher = new Publisher(this.chain, options.deployment);
    if (options.indexerUrl) this.catalog = new CatalogClient(options.indexerUrl);
    this.channelStorage = options.channelStorage ?? new InMemoryClientChannelStorage();
    this.channels = new ChannelManager(this.chain, options.deployment, this.channelStorage);
    this.receiptStore = options.receiptStore ?? new InMemoryReceiptStore();
    this.executorChooser = new ExecutorChooser({ standing: (operator) => this.executorStanding(operator) });
    this.licences = new Licences(this.chain, options.deployment, this.registry);
  }

  get deployment(): Deployment {
    return this.options.deployment;
  }

  get address(): Address | undefined {
    return this.options.account?.address;
  }

  // ── maintainers ──────────────────────────────────────────────────────────────────────────

  /**
   * Registers the package (or the fork its manifest names) if needed, publishes, and uploads what
   * the executor is missing. Resumable: an identical registered version is only uploaded.
   */
  publish(files: CapabilityFiles, opts: { executorUrl?: string; progress?: ProgressReporter } = {}): Promise<PublishResult> {
    const executorUrl = opts.executorUrl ?? this.options.executorUrl;
    return this.publisher.publish(files, { ...opts, ...(executorUrl ? { executorUrl } : {}) });
  }

  /** Uploads what the executor is missing of a version already registered with exactly these files. */
  upload(files: CapabilityFiles, opts: { executorUrl?: string; progress?: ProgressReporter } = {}): Promise<UploadResult> {
    const executorUrl = opts.executorUrl ?? this.options.executorUrl;
    if (!executorUrl) throw new GlassboxError("NO_EXECUTOR", "Uploading needs an executor URL.", "Pass executorUrl (CLI: --executor URL).");
    return this.publisher.upload(files, { ...opts, executorUrl });
  }

  /** Registers `newName` as a fork of `parentRef` (scope/name@version) owing `upstreamShareBps`. */
  async fork(parentRef: string, newName: string, upstreamShareBps: number, minForkShareBps = 0): Promise<{ packageId: Hex; parentVersionId: Hex; transaction: Hex }> {
    const parent = parsePackageRef(parentRef);
    const parentVersion = await this.registry.resolveVersion(parent.name, parent.version);
    const transaction = await this.write(`Forking ${parentRef} as ${newName}`, "registerFork", [newName, parentVersion.versionId, upstreamShareBps, minForkShareBps]);
    return { packageId: packageIdOf(newName), parentVersionId: parentVersion.versionId, transaction };
  }

  /** Claims `scope` for this wallet (a no-op if it is already yours): only its owner registers names under it. */
  claimScope(scope: string): Promise<Hex> {
    return this.write(`Claiming the scope "${scope}"`, "claimScope", [scope]);
  }

  async yank(ref: string): Promise<Hex> {
    const { name, version } = parsePackageRef(ref);
    if (version === "latest") throw new GlassboxError("VERSION_REQUIRED", "Yank needs an exact version (scope/name@1.2.3).");
    return this.write(`Yanking ${ref}`, "yankVersion", [versionIdOf(packageIdOf(name), version)]);
  }

  // ── agents ───────────────────────────────────────────────────────────────────────────────

  search<T = SearchResponse>(query: string, filters?: SearchFilters): Promise<T> {
    return this.requireCatalog().search<T>(query, filters);
  }

  info<T = PackageResponse>(name: string): Promise<T> {
    return this.requireCatalog().package<T>(name);
  }

  /** Executors to consider for a call: the configured ones, then the catalog's active ones. */
  async executorCandidates(): Promise<string[]> {
    const candidates: string[] = [...(this.options.executorUrl ? [this.options.executorUrl] : []), ...(this.options.executorUrls ?? [])];
    if (this.catalog) {
      const listed = await this.catalog.executors<{ executors?: { endpoint: string; active?: boolean }[] }>().catch(() => undefined);
      for (const e of listed?.executors ?? []) if (e.active !== false) candidates.push(e.endpoint);
    }
    return [...new Set(candidates)];
  }

  /** Active executors that serve `version`, best first (fee, then measured latency; see ExecutorChooser). */
  async executorsFor(version: VersionView): Promise<string[]> {
    return (await this.executorChooser.rank(await this.executorCandidates(), version)).ranked.map((e) => e.url);
  }

  /**
   * Calls `function` of `ref` (scope/name[@version], default latest) with positional arguments, paying over
   * x402 when the version is paid (a channel by default: see CallOptions), and verifies and keeps the receipt.
   * Without `executorUrl`, the best executor serving the version takes it, and the next one when it is down
   * or refuses before anything is signed. A failure after the payment was sent is never retried elsewhere:
   * it is thrown as a PaymentSignedError, and recoverPaidCall reads the paid result back from that executor.
   */
  async call(ref: string, functionName: string, args: unknown[], opts: CallOptions = {}): Promise<CallOutcome & { version: VersionView }> {
    const { name, version: requested } = parsePackageRef(ref);
    const version = await this.registry.resolveVersion(name, requested);
    if (version.yanked) {
      throw new GlassboxError("VERSION_YANKED", `${name}@${version.version} was yanked by its maintainer.`, `Call ${name}@latest or another version.`);
    }
    const { executorUrl: only, ...payment } = opts;
    const state = { channelStorage: this.channelStorage, receiptStore: this.receiptStore };
    // The payment may only go to the operator whose standing was checked (payee), not to whoever the 402 names.
    const attempt = (executorUrl: string, payee?: Address) =>
      callCapability(this.deployment, this.chain, this.options.account, { ...payment, executorUrl, version, functionName, args, ...(payee ? { payee } : {}) }, state);
    if (only) {
      if (version.accessMode === "free") return { ...(await attempt(only)), version };
      // A named executor is still refused in bad standing; one that is down fails in the call itself, with its own error.
      const checked = await this.executorChooser.rank([only], version);
      if (checked.skipped[0]?.standing) throw noExecutorInGoodStanding(`${name}@${version.version}`, checked.skipped);
      return { ...(await attempt(only, checked.ranked[0]?.operator)), version };
    }
    const ranking = await this.executorChooser.rank(await this.executorCandidates(), version);
    if (ranking.ranked.length === 0) {
      if (ranking.skipped.some((s) => s.standing)) throw noExecutorInGoodStanding(`${name}@${version.version}`, ranking.skipped);
      const why = ranking.skipped.map((s) => `${s.url}: ${s.reason}`).join("; ");
      throw new GlassboxError("NO_EXECUTOR", `No running executor serves ${name}@${version.version}${why ? ` (${why})` : ""}.`, "Pass --executor URL, or ask the maintainer to upload it to an executor.");
    }
    const { value } = await callWithFailover(ranking, (executor) => attempt(executor.url, version.accessMode === "free" ? undefined : executor.operator), this.executorChooser);
    return { ...value, version };
  }

  /**
   * After a PaymentSignedError: the paid result, read back from the executor that holds the payment
   * (it journals the receipt and result before it answers). Asks again for `waitMs` while that
   * executor is down (it recovers its journal when it restarts). `paid: false` when the payment was
   * never taken (an exact authorization still unused on-chain, or no receipt for the voucher).
   */
  async recoverPaidCall(
    error: PaymentSignedError,
    opts: { waitMs?: number; intervalMs?: number } = {},
  ): Promise<{ paid: false } | { paid: true; receiptId: Hex; result: unknown; receipt: Receipt; status: string }> {
    const deadline = Date.now() + (opts.waitMs ?? 0);
    for (;;) {
      try {
        const ref = await paymentRefOf(this.chain, this.deployment.contracts.usdc, error.payment);
        const receiptId = ref ? await receiptIdForPayment(error.executorUrl, ref) : undefined;
        if (receiptId) return { paid: true, receiptId, ...(await this.recoverResult(error.executorUrl, receiptId)) };
        if (Date.now() >= deadline) return { paid: false };
      } catch (failure) {
        if (Date.now() >= deadline) throw failure;
      }
      await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 500));
    }
  }

  /**
   * Reads back from the executor the result of a call this wallet paid for (it is journaled with
   * the receipt), e.g. when the connection dropped before the response; checked against the receipt.
   */
  async recoverResult(executorUrl: string, id: Hex): Promise<{ result: unknown; receipt: Receipt; status: string }> {
    const account = this.requireAccount();
    const signature = await account.signMessage({ message: receiptResultMessage(id) });
    const response = await fetch(`${executorUrl}/v1/receipts/${id}`, { headers: { [PAYER_SIGNATURE_HEADER]: signature } });
    const body = (await response.json().catch(() => undefined)) as { receipt?: ReceiptJson; result?: unknown; status?: string; error?: { code: string; message: string } } | undefined;
    if (!response.ok || !body?.receipt) throw new GlassboxError(body?.error?.code ?? `HTTP_${response.status}`, body?.error?.message ?? `No receipt ${id} at ${executorUrl}.`);
    const receipt = receiptFromJson(body.receipt);
    if (outputHashOf(body.result) !== receipt.outputHash) throw new GlassboxError("RECEIPT_INVALID", "The recovered result does not match the receipt's outputHash.");
    return { result: body.result, receipt, status: body.status ?? "unknown" };
  }

  // ── licences (pay once, run locally) ─────────────────────────────────────────────────────

  /** The licence offer of `ref` (scope/name[@version]) and whether `holder` (default: this wallet) has one. */
  async licenceStatus(ref: string, holder?: Address): Promise<LicenceStatus> {
    const { name, version } = parsePackageRef(ref);
    return this.licences.status(await this.registry.resolveVersion(name, version), holder ?? this.requireAccount().address);
  }

  /** Buys a licence to run `ref` locally (for `holder`, default this wallet), at most `maxPrice` (default: today's price). */
  async buyLicence(ref: string, opts: { holder?: Address; maxPrice?: bigint } = {}): Promise<{ price: bigint; holder: Address; transaction: Hex; approval?: Hex; version: VersionView }> {
    const { name, version } = parsePackageRef(ref);
    const view = await this.registry.resolveVersion(name, version);
    return { ...(await this.licences.buy(this.requireAccount().address, view, opts)), version: view };
  }

  /** Offers (price > 0), reprices or withdraws (0) a licence for a version of a package this wallet owns. */
  async setLicencePrice(ref: string, price: bigint): Promise<Hex> {
    const { name, version } = parsePackageRef(ref);
    if (version === "latest") throw new GlassboxError("VERSION_REQUIRED", "A licence is offered for an exact version (scope/name@1.2.3).");
    return this.licences.setPrice(await this.registry.resolveVersion(name, version), price);
  }

  /** A licensed version and its licensed dependencies, downloaded (or from `cache`) and hash-checked, ready to run locally. */
  async fetchLicensed(ref: string, opts: { cache?: ComponentCache } = {}): Promise<LicensedCapability> {
    const { name, version } = parsePackageRef(ref);
    const view = await this.registry.resolveVersion(name, version);
    return this.licences.fetchForRun(this.requireAccount(), view, await this.executorCandidates(), opts.cache);
  }

  // ── money ────────────────────────────────────────────────────────────────────────────────

  /** Claimable balance in Settlement (USDC base units). */
  claimable(address: Address): Promise<bigint> {
    return this.chain.publicClient.readContract({ address: this.deployment.contracts.settlement, abi: settlementAbi, functionName: "balanceOf", args: [address] });
  }

  usdcBalance(address: Address): Promise<bigint> {
    return this.chain.publicClient.readContract({ address: this.deployment.contracts.usdc, abi: localUsdcAbi, functionName: "balanceOf", args: [address] });
  }

  /** Earnings history from the catalog plus the on-chain claimable balance. */
  async earnings<T = AccountResponse>(address: Address): Promise<{ claimable: bigint; account?: T }> {
    const claimable = await this.claimable(address);
    const account = this.catalog ? await this.catalog.account<T>(address).catch(() => undefined) : undefined;
    return account === undefined ? { claimable } : { claimable, account };
  }

  /** Pays out this wallet's whole Settlement balance (to itself, or to `to`). */
  async claim(to?: Address): Promise<{ amount: bigint; transaction: Hex }> {
    const account = this.requireAccount();
    const amount = await this.claimable(account.address);
    if (amount === 0n) throw new GlassboxError("NOTHING_TO_CLAIM", `${account.address} has nothing to claim yet.`, "Earnings arrive when executors settle paid calls.");
    const settlement = { address: this.deployment.contracts.settlement, abi: settlementAbi } as const;
    // Two calls, not one with ternaries, so each function name is checked against its own args.
    const transaction = to
      ? await sendContractTx(this.chain, `Claiming ${amount}`, { ...settlement, functionName: "claimTo", args: [to] })
      : await sendContractTx(this.chain, `Claiming ${amount}`, { ...settlement, functionName: "claim", args: [] });
    return { amount, transaction };
  }

  /** The receipts this wallet (or `payer`) keeps. */
  receipts(payer?: Address): Promise<StoredReceipt[]> {
    return this.receiptStore.list(payer ?? this.requireAccount().address);
  }

  /** Checks each kept receipt against the chain: settled as signed, pending, overdue, mismatched, overcharged. */
  async auditReceipts(payer?: Address): Promise<ReceiptAudit[]> {
    const auditor = new ReceiptAuditor(this.chain, this.deployment);
    const audits: ReceiptAudit[] = [];
    for (const entry of await this.receipts(payer)) {
      if (entry.chainId !== this.deployment.chainId || entry.settlement.toLowerCase() !== this.deployment.contracts.settlement.toLowerCase()) continue;
      audits.push(await auditor.audit(entry));
    }
    return audits;
  }

  /** Submits the proofs an audit supports (slashOverdue / slashMismatch / slashOvercharge); anyone may, the bounty goes to the payer. */
  submitReceiptProofs(audit: ReceiptAudit): Promise<SlashSubmission[]> {
    this.requireAccount();
    return new ReceiptAuditor(this.chain, this.deployment).submit(audit);
  }

  /** An executor's on-chain standing: registered fee, bond, exit. */
  async executorStanding(operator: Address): Promise<{ active: boolean; retired: boolean; fee: bigint; endpoint: string; bond: bigint; exitAt: bigint; nextSeq: bigint }> {
    const read = this.chain.publicClient;
    const settlement = { address: this.deployment.contracts.settlement, abi: settlementAbi } as const;
    const [executor, bond, exitAt, nextSeq] = await Promise.all([
      read.readContract({ address: this.deployment.contracts.registry, abi: capabilityRegistryAbi, functionName: "getExecutor", args: [operator] }),
      read.readContract({ ...settlement, functionName: "bondOf", args: [operator] }),
      read.readContract({ ...settlement, functionName: "exitAt", args: [operator] }),
      read.readContract({ ...settlement, functionName: "nextSeq", args: [operator] }),
    ]);
    return { active: executor.active, retired: executor.retired, fee: executor.feePerCall, endpoint: executor.endpoint, bond, exitAt: BigInt(exitAt), nextSeq: BigInt(nextSeq) };
  }

  /** An executor's /v1/info (fee, bond, schemes, unsettled royalties per version); undefined when unreachable. */
  async executorInfo(executorUrl: string): Promise<InfoBody | undefined> {
    return getJson<InfoBody>(`${executorUrl}${ROUTES.info}`).catch(() => undefined);
  }

  // ── plumbing ─────────────────────────────────────────────────────────────────────────────

  private requireCatalog(): CatalogClient {
    if (!this.catalog) throw new GlassboxError("NO_INDEXER", "This needs the catalog (indexer) URL.", "Pass indexerUrl (or --indexer), or start the local stack with `npm start`.");
    return this.catalog;
  }

  private requireAccount(): LocalAccount {
    if (!this.options.account) throw new GlassboxError("NO_WALLET", "This needs a wallet.", "Pass an account (CLI: --keystore, GLASSBOX_PRIVATE_KEY or --dev-account).");
    return this.options.account;
  }

  private write<functionName extends WriteFunctionName<typeof capabilityRegistryAbi>>(
    action: string,
    functionName: functionName,
    args: WriteArgs<typeof capabilityRegistryAbi, functionName>,
  ): Promise<Hex> {
    return sendContractTx(this.chain, action, { address: this.deployment.contracts.registry, abi: capabilityRegistryAbi, functionName, args });
  }
}

export { GlassboxError } from "./client/errors.ts";
export type { CallOutcome, DepositOffer, DepositDecision, PayScheme } from "./client/call.ts";
export type { ChannelStatus } from "./client/channels.ts";
export type { ReceiptAudit, ReceiptState, SlashSubmission } from "./client/receipt-audit.ts";
export type { ReceiptStore, StoredReceipt } from "./client/receipt-store.ts";
export type { CapabilityFiles, PublishResult, UploadResult } from "./client/publish.ts";
export type { VersionView, PackageView } from "./client/registry.ts";
export type { ComponentCache, LicensedCapability, LicenceStatus } from "./client/licences.ts";
