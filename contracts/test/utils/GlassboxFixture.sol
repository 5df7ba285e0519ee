// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {Test} from "./Test.sol";
import {CapabilityRegistry} from "../../src/CapabilityRegistry.sol";
import {Settlement} from "../../src/Settlement.sol";
import {LocalUSDC} from "../../src/LocalUSDC.sol";
import {ICapabilityRegistry} from "../../src/interfaces/ICapabilityRegistry.sol";
import {ISettlement} from "../../src/interfaces/ISettlement.sol";
import {ISettlementRegistry} from "../../src/interfaces/ISettlementRegistry.sol";
import {IERC3009} from "../../src/interfaces/IERC3009.sol";

/// @title Deploys Glassbox and builds signed settlement items (EIP-3009 payment + EIP-712 receipt) in Solidity
abstract contract GlassboxFixture is Test {
    uint256 internal constant EXECUTOR_KEY = 0xE0E0;
    uint256 internal constant BPS = 10_000;

    LocalUSDC internal usdc;
    CapabilityRegistry internal registry;
    Settlement internal settlement;
    address internal executor;
    uint256 private _names;
    uint256 private _nonces;

    function deployGlassbox() internal {
        usdc = new LocalUSDC();
        registry = new CapabilityRegistry();
        settlement = new Settlement(ISettlementRegistry(address(registry)), IERC3009(address(usdc)));
        executor = vm.addr(EXECUTOR_KEY);
        vm.prank(executor);
        registry.registerExecutor("http://127.0.0.1:8787", 0);
    }

    /// @dev `count` distinct recipients for a level, with bps summing to 10000 (uneven, to exercise rounding).
    function makeSplits(uint256 level, uint256 count, uint256 seed) internal pure returns (ICapabilityRegistry.Split[] memory splits) {
        splits = new ICapabilityRegistry.Split[](count);
        uint256 left = BPS;
        for (uint256 j; j < count; ++j) {
            uint256 bps = j == count - 1 ? left : bound(uint256(keccak256(abi.encode(seed, j))), 1, left - (count - 1 - j));
            left -= bps;
            splits[j] = ICapabilityRegistry.Split({recipient: recipientOf(level, j), bps: uint16(bps)});
        }
    }

    function recipientOf(uint256 level, uint256 index) internal pure returns (address) {
        return address(uint160(0x10000 + level * 32 + index));
    }

    function publish(
        address owner,
        bytes32 parentVersionId,
        uint16 upstreamShareBps,
        ICapabilityRegistry.AccessMode mode,
        uint256 price,
        uint256 fuelPricePerMillion,
        ICapabilityRegistry.Split[] memory splits
    ) internal returns (bytes32 versionId) {
        string memory name = string.concat("s", Strings.toString(++_names), "/pkg");
        vm.startPrank(owner);
        bytes32 packageId = parentVersionId == bytes32(0)
            ? registry.registerPackage(name, 0)
            : registry.registerFork(name, parentVersionId, upstreamShareBps, 0);
        string memory manifest = string.concat('{"name":"', name, '"}');
        ICapabilityRegistry.VersionInput memory input = ICapabilityRegistry.VersionInput({
            hashes: ICapabilityRegistry.Hashes({
                componentHash: keccak256(bytes(name)),
                witHash: bytes32(0),
                testsHash: bytes32(0),
                manifestHash: sha256(bytes(manifest))
            }),
            accessMode: mode,
            price: price,
            fuelPricePerMillion: fuelPricePerMillion,
            splits: splits,
            manifest: manifest
        });
        versionId = registry.publishVersion(packageId, "1.0.0", input);
        vm.stopPrank();
    }

    function nextNonce() internal returns (bytes32) {
        return keccak256(abi.encode("nonce", ++_nonces));
    }

    /// @dev A valid item paying Settlement `royalty + fee` from `payerKey` for a call to `versionId`.
    function makeItem(uint256 payerKey, bytes32 versionId, uint256 royalty, uint256 fee, uint64 fuelUsed)
        internal
        returns (ISettlement.SettlementItem memory item)
    {
        address payer = vm.addr(payerKey);
        bytes32 nonce = nextNonce();
        item.authorization = ISettlement.Authorization({
            from: payer,
            to: address(settlement),
            value: royalty + fee,
            validAfter: 0,
            validBefore: block.timestamp + 1 days,
            nonce: nonce
        });
        item.receipt = ISettlement.Receipt({
            versionId: versionId,
            functionName: "run",
            payer: payer,
            executor: executor,
            royalty: royalty,
            executorFee: fee,
            inputHash: keccak256("in"),
            outputHash: keccak256("out"),
            fuelUsed: fuelUsed,
            paymentNonce: nonce,
            timestamp: uint64(block.timestamp)
        });
        item.receiptSignature = signDigest(EXECUTOR_KEY, settlement.receiptId(item.receipt));
        item.paymentSignature = signPayment(payerKey, item.authorization);
    }

    function signPayment(uint256 payerKey, ISettlement.Authorization memory a) internal view returns (bytes memory) {
        bytes32 structHash = keccak256(
            abi.encode(
                usdc.TRANSFER_WITH_AUTHORIZATION_TYPEHASH(), a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce
            )
        );
        return signDigest(payerKey, keccak256(abi.encodePacked(hex"1901", usdc.DOMAIN_SEPARATOR(), structHash)));
    }

    function signDigest(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function settleItem(ISettlement.SettlementItem memory item) internal returns (bytes32) {
        return settlement.settle(item.receipt, item.receiptSignature, item.authorization, item.paymentSignature);
    }
}
