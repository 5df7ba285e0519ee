// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {Test} from "./Test.sol";
import {CapabilityRegistry} from "../../src/CapabilityRegistry.sol";
import {Settlement} from "../../src/Settlement.sol";
import {LocalUSDC} from "../../src/LocalUSDC.sol";
import {ICapabilityRegistry} from "../../src/interfaces/ICapabilityRegistry.sol";
import {ISettlement} from "../../src/interfaces/ISettlement.sol";
import {ISettlementRegistry} from "../../src/interfaces/ISettlementRegistry.sol";

/// @title Deploys Glassbox v2 and builds signed receipts and royalty lines in Solidity (sdk/receipt.ts and
/// sdk/royalty-batch.ts, bit for bit)
abstract contract GlassboxFixture is Test {
    uint256 internal constant EXECUTOR_KEY = 0xE0E0;
    uint256 internal constant BPS = 10_000;
    /// @dev The executor's registered fee per call.
    uint256 internal constant EXECUTOR_FEE = 100;
    address internal constant SURPLUS_RECIPIENT = address(0x5095);

    LocalUSDC internal usdc;
    CapabilityRegistry internal registry;
    Settlement internal settlement;
    address internal executor;
    uint256 private _names;

    /// @dev Deploys and wires the contracts, registers the executor and gives it funds approved to Settlement.
    function deployGlassbox() internal {
        usdc = new LocalUSDC();
        registry = new CapabilityRegistry();
        settlement = new Settlement(ISettlementRegistry(address(registry)), IERC20(address(usdc)), SURPLUS_RECIPIENT);
        registry.setSettlement(address(settlement));
        executor = vm.addr(EXECUTOR_KEY);
        vm.startPrank(executor);
        registry.registerExecutor("http://127.0.0.1:8787", EXECUTOR_FEE);
        usdc.approve(address(settlement), type(uint256).max);
        vm.stopPrank();
        usdc.mint(executor, type(uint128).max);
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

    /// @dev A deterministic recipient per (level, index).
    function recipientOf(uint256 level, uint256 index) internal pure returns (address) {
        return address(uint160(0x10000 + level * 32 + index));
    }

    /// @dev Registers a package (or a fork of `parentVersionId`) owned by `owner` and publishes 1.0.0.
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

    /// @dev A receipt without dependencies from the fixture's executor, deadline one day after now.
    function makeReceipt(bytes32 versionId, uint64 seq, uint256 royalty, uint256 fee, address payer)
        internal
        view
        returns (ISettlement.Receipt memory r)
    {
        r.versionId = versionId;
        r.functionName = "run";
        r.payer = payer;
        r.executor = executor;
        r.seq = seq;
        r.royalty = royalty;
        r.executorFee = fee;
        r.inputHash = keccak256(abi.encode("in", seq));
        r.outputHash = keccak256("out");
        r.paymentRef = keccak256(abi.encode("payment", seq, payer));
        r.issuedAt = uint64(block.timestamp);
        r.deadline = uint64(block.timestamp + 1 days);
    }

    /// @dev The executor's signature of a receipt (r, s, v as viem and OpenZeppelin expect).
    function signReceipt(ISettlement.Receipt memory r) internal view returns (bytes memory) {
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(EXECUTOR_KEY, settlement.receiptId(r));
        return abi.encodePacked(rr, s, v);
    }

    /// @dev One royalty line: receipt id high 144 bits | version index (16 bits) | royalty (96 bits).
    function line(bytes32 receiptId, uint256 versionIndex, uint256 royalty) internal pure returns (uint256) {
        return (uint256(receiptId) >> 112 << 112) | (versionIndex << 96) | royalty;
    }
}
