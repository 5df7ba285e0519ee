/**
 * Run by test/executor/redo-log.test.ts as its own process: issues receipts on the PGlite journal in
 * argv[2], prints their ids once every commit has resolved, then kills itself (SIGKILL: no close, no
 * apply, no exit handler), so the receipts are only where a resolved commit guarantees them to be.
 */
import { keccak256, toHex } from "viem";
import { JournaledChannelStorage } from "../../../executor/channel-storage.ts";
import { Journal } from "../../../executor/journal.ts";
import { ReceiptIssuer } from "../../../executor/receipts.ts";
import { devAccount } from "../../helpers/chain.ts";

const [dataDir, countArg] = process.argv.slice(2);
const journal = await Journal.open({ dataDir: dataDir! });
const issuer = new ReceiptIssuer({
  journal,
  channels: new JournaledChannelStorage(journal),
  signer: devAccount(3),
  chainId: 31337,
  settlement: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  settleWindowSeconds: 3600,
});
await issuer.start(1n);
const issued = await Promise.all(
  Array.from({ length: Number(countArg) }, (_, i) =>
    issuer.issue({
      versionId: keccak256(toHex("version")),
      functionName: "add",
      payer: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
      royalty: 1_000n,
      executorFee: 500n,
      fuel: 0n,
      inputHash: keccak256(toHex(`in-${i}`)),
      outputHash: keccak256(toHex(`out-${i}`)),
      dependencies: [],
      paymentRef: keccak256(toHex(`payment-${i}-${process.pid}`)),
      scheme: "exact",
      result: String(i),
    }),
  ),
);
process.stdout.write(`${JSON.stringify(issued.map((r) => r.id))}\n`, () => process.kill(process.pid, "SIGKILL"));
