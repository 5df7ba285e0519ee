import { network } from "hardhat";
import { beforeEach, describe, expect, it } from "vitest";
import { getContract, hashDomain, keccak256, parseSignature, toHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { localUsdcAbi, localUsdcBytecode } from "../../sdk/abi.ts";
import { addrOf, deployGlassboxFixture, TRANSFER_WITH_AUTHORIZATION_TYPES, type Authorization, type Fixture } from "./fixture.ts";

let f: Fixture;
let payer: PrivateKeyAccount;
beforeEach(async () => {
  f = await deployGlassboxFixture();
  payer = await f.newPayer(1_000n);
});

const RECEIVE_TYPES = { ReceiveWithAuthorization: TRANSFER_WITH_AUTHORIZATION_TYPES.TransferWithAuthorization } as const;
const CANCEL_TYPES = {
  CancelAuthorization: [
    { name: "authorizer", type: "address" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

const domain = () => ({ name: "USD Coin", version: "2", chainId: f.chainId, verifyingContract: f.usdc.address }) as const;

async function authorization(overrides: Partial<Authorization> = {}): Promise<Authorization> {
  return {
    from: payer.address,
    to: addrOf(f.other),
    value: 100n,
    validAfter: 0n,
    validBefore: (await f.now()) + 3600n,
    nonce: keccak256(toHex(Math.random().toString())),
    ...overrides,
  };
}

const signTransfer = (a: Authorization, signer = payer) =>
  signer.signTypedData({ domain: domain(), types: TRANSFER_WITH_AUTHORIZATION_TYPES, primaryType: "TransferWithAuthorization", message: a });
const signReceive = (a: Authorization) =>
  payer.signTypedData({ domain: domain(), types: RECEIVE_TYPES, primaryType: "ReceiveWithAuthorization", message: a });
const signCancel = (nonce: Hex) =>
  payer.signTypedData({ domain: domain(), types: CANCEL_TYPES, primaryType: "CancelAuthorization", message: { authorizer: payer.address, nonce } });

const args = (a: Authorization) => [a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce] as const;
const vrs = (signature: Hex) => {
  const { v, r, s } = parseSignature(signature);
  return [Number(v), r, s] as const;
};

describe("LocalUSDC", () => {
  it("looks like USDC: name, symbol, 6 decimals, EIP-712 domain (USD Coin, 2)", async () => {
    expect(await f.usdc.read.name()).toBe("USD Coin");
    expect(await f.usdc.read.symbol()).toBe("USDC");
    expect(await f.usdc.read.decimals()).toBe(6);
    expect(await f.usdc.read.version()).toBe("2");
    expect(await f.usdc.read.DOMAIN_SEPARATOR()).toBe(hashDomain({ domain: { ...domain(), chainId: BigInt(f.chainId) }, types: { EIP712Domain: [
      { name: "name", type: "string" },
      { name: "version", type: "string" },
      { name: "chainId", type: "uint256" },
      { name: "verifyingContract", type: "address" },
    ] } }));
    const [, name, version] = await f.usdc.read.eip712Domain();
    expect([name, version]).toEqual(["USD Coin", "2"]);
  });

  it("mints from the faucet with a Minted event", async () => {
    await f.viem.assertions.emitWithArgs(f.usdc.write.mint([addrOf(f.other), 5n]), f.usdc, "Minted", [addrOf(f.other), 5n]);
    expect(await f.usdc.read.balanceOf([addrOf(f.other)])).toBe(5n);
  });

  it("transferWithAuthorization: bytes and (v,r,s) overloads, then the nonce is used", async () => {
    const a = await authorization();
    const signature = await signTransfer(a);
    await f.viem.assertions.emitWithArgs(f.usdc.write.transferWithAuthorization([...args(a), signature]), f.usdc, "AuthorizationUsed", [
      payer.address,
      a.nonce,
    ]);
    expect(await f.usdc.read.authorizationState([payer.address, a.nonce])).toBe(true);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.usdc.write.transferWithAuthorization([...args(a), ...vrs(signature)]),
      f.usdc,
      "AuthorizationUsedOrCanceled",
      [payer.address, a.nonce],
    );
    const b = await authorization();
    await f.mined(await f.usdc.write.transferWithAuthorization([...args(b), ...vrs(await signTransfer(b))]));
    expect(await f.usdc.read.balanceOf([addrOf(f.other)])).toBe(200n);
    expect(await f.usdc.read.balanceOf([payer.address])).toBe(800n);
  });

  it("refuses authorizations outside their window or with a bad signature", async () => {
    const now = await f.now();
    const early = await authorization({ validAfter: now + 1000n });
    await f.viem.assertions.revertWithCustomError(
      f.usdc.write.transferWithAuthorization([...args(early), await signTransfer(early)]),
      f.usdc,
      "AuthorizationNotYetValid",
    );
    const late = await authorization({ validBefore: now });
    await f.viem.assertions.revertWithCustomError(
      f.usdc.write.transferWithAuthorization([...args(late), await signTransfer(late)]),
      f.usdc,
      "AuthorizationExpired",
    );
    const a = await authorization();
    const stranger = privateKeyToAccount(generatePrivateKey());
    await f.viem.assertions.revertWithCustomError(
      f.usdc.write.transferWithAuthorization([...args(a), await signTransfer(a, stranger)]),
      f.usdc,
      "InvalidSignature",
    );
    // A signature over different fields (value changed after signing) is refused too.
    const signature = await signTransfer(a);
    await f.viem.assertions.revertWithCustomError(
      f.usdc.write.transferWithAuthorization([...args({ ...a, value: 999n }), signature]),
      f.usdc,
      "InvalidSignature",
    );
  });

  it("receiveWithAuthorization: only the payee may submit, both overloads", async () => {
    const a = await authorization();
    const signature = await signReceive(a);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.usdc.write.receiveWithAuthorization([...args(a), signature]),
      f.usdc,
      "CallerMustBePayee",
      [addrOf(f.deployer), addrOf(f.other)],
    );
    const asPayee = getContract({ address: f.usdc.address, abi: localUsdcAbi, client: { public: f.publicClient, wallet: f.other } });
    await f.mined(await asPayee.write.receiveWithAuthorization([...args(a), signature]));
    const b = await authorization();
    await f.mined(await asPayee.write.receiveWithAuthorization([...args(b), ...vrs(await signReceive(b))]));
    await f.viem.assertions.revertWithCustomError(
      f.usdc.write.receiveWithAuthorization([...args(b), ...vrs(await signReceive(b))]),
      f.usdc,
      "CallerMustBePayee",
    );
    expect(await f.usdc.read.balanceOf([addrOf(f.other)])).toBe(200n);
    // A TransferWithAuthorization signature is not a ReceiveWithAuthorization one.
    const c = await authorization();
    await f.viem.assertions.revertWithCustomError(
      asPayee.write.receiveWithAuthorization([...args(c), await signTransfer(c)]),
      f.usdc,
      "InvalidSignature",
    );
  });

  it("cancelAuthorization: both overloads, only once, and a canceled nonce cannot be used", async () => {
    const a = await authorization();
    await f.viem.assertions.emitWithArgs(
      f.usdc.write.cancelAuthorization([payer.address, a.nonce, await signCancel(a.nonce)]),
      f.usdc,
      "AuthorizationCanceled",
      [payer.address, a.nonce],
    );
    expect(await f.usdc.read.authorizationState([payer.address, a.nonce])).toBe(true);
    await f.viem.assertions.revertWithCustomError(
      f.usdc.write.transferWithAuthorization([...args(a), await signTransfer(a)]),
      f.usdc,
      "AuthorizationUsedOrCanceled",
    );
    await f.viem.assertions.revertWithCustomError(
      f.usdc.write.cancelAuthorization([payer.address, a.nonce, ...vrs(await signCancel(a.nonce))]),
      f.usdc,
      "AuthorizationUsedOrCanceled",
    );
    const b = await authorization();
    await f.mined(await f.usdc.write.cancelAuthorization([payer.address, b.nonce, ...vrs(await signCancel(b.nonce))]));
    const c = await authorization();
    const stranger = privateKeyToAccount(generatePrivateKey());
    const forged = await stranger.signTypedData({
      domain: domain(),
      types: CANCEL_TYPES,
      primaryType: "CancelAuthorization",
      message: { authorizer: payer.address, nonce: c.nonce },
    });
    await f.viem.assertions.revertWithCustomError(
      f.usdc.write.cancelAuthorization([payer.address, c.nonce, forged]),
      f.usdc,
      "InvalidSignature",
    );
  });

  it("refuses to deploy on a chain that is not a development chain", async () => {
    const { viem } = await network.create({ override: { chainId: 8453 } });
    const [wallet] = await viem.getWalletClients();
    const publicClient = await viem.getPublicClient();
    await expect(
      wallet!.deployContract({ abi: localUsdcAbi, bytecode: localUsdcBytecode }).then((hash) => publicClient.waitForTransactionReceipt({ hash })),
    ).rejects.toThrow(/NotADevChain/);
  });
});
