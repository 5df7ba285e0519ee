import {
  createWalletClient,
  http,
  type Abi,
  type LocalAccount,
  type Address,
  type Chain,
  type Hex,
  type WalletClient,
  type Transport,
} from "viem";
import { nonceManager, privateKeyToAccount } from "viem/accounts";
import { withFastDigestSigning } from "./secp256k1.ts";

/**
 * Every transaction from the operator key goes through one queue: viem's nonceManager assigns
 * nonces and the queue submits one at a time, so concurrent settlements never collide on a nonce
 * (automine cannot queue two transactions from one sender). Only the submission is serialized:
 * waiting for receipts happens outside the queue.
 */
export class OperatorSender {
  readonly account: LocalAccount;
  readonly wallet: WalletClient<Transport, Chain, LocalAccount>;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(privateKey: Hex, chain: Chain, rpcUrl: string) {
    // Receipts are signed with the account's raw-digest sign(): libsecp256k1 makes it cheap per call.
    this.account = withFastDigestSigning(privateKeyToAccount(privateKey, { nonceManager }), privateKey);
    this.wallet = createWalletClient({ account: this.account, chain, transport: http(rpcUrl, { retryCount: 0 }) });
  }

  get address(): Address {
    return this.account.address;
  }

  /**
   * Submits (viem estimates gas first, so a revert surfaces here as ContractFunctionRevertedError with
   * the decoded custom error, and nothing is sent); returns the transaction hash.
   */
  write(call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[]; gas?: bigint }): Promise<Hex> {
    const run = this.tail.then(() => this.wallet.writeContract({ ...call, chain: this.wallet.chain, account: this.account }));
    this.tail = run.catch(() => {});
    return run;
  }

  /** A raw call (x402's facilitators build some calldata themselves), through the same queue. */
  send(tx: { to: Address; data: Hex }): Promise<Hex> {
    const run = this.tail.then(() => this.wallet.sendTransaction({ to: tx.to, data: tx.data, chain: this.wallet.chain, account: this.account }));
    this.tail = run.catch(() => {});
    return run;
  }

}
