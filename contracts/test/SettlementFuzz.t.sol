// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {GlassboxFixture} from "./utils/GlassboxFixture.sol";
import {ICapabilityRegistry} from "../src/interfaces/ICapabilityRegistry.sol";
import {ISettlement} from "../src/interfaces/ISettlement.sol";

/// @title Fuzz tests on the money paths: exact fork-chain splits, claims, replays
contract SettlementFuzzTest is GlassboxFixture {
    uint256 internal constant PAYER_KEY = 0xBEEF;

    function setUp() public {
        deployGlassbox();
        usdc.mint(vm.addr(PAYER_KEY), type(uint128).max);
    }

    /// @notice Any fork chain up to MAX_FORK_DEPTH, any shares and splits: every unit lands somewhere defined.
    /// Level i receives a_i (a_0 = royalty), sends floor(a_i * share_i / 10000) up, splits the rest: each
    /// recipient but the first gets floor(kept * bps / 10000), the first gets what is left.
    /// hardhat-config: fuzz.runs = 200
    function testFuzz_forkChainSplitsExactly(uint256 royalty, uint256 fee, uint256 depth, uint256 seed) public {
        royalty = bound(royalty, 0, 1e15);
        fee = bound(fee, 0, 1e12);
        depth = bound(depth, 0, registry.MAX_FORK_DEPTH());

        bytes32[] memory versions = new bytes32[](depth + 1);
        uint16[] memory shares = new uint16[](depth + 1);
        ICapabilityRegistry.Split[][] memory splits = new ICapabilityRegistry.Split[][](depth + 1);
        for (uint256 level; level <= depth; ++level) {
            // Level 0 is the root; level `depth` is the version called.
            splits[level] = makeSplits(level, bound(uint256(keccak256(abi.encode(seed, level))), 1, 5), uint256(keccak256(abi.encode(seed, "splits", level))));
            shares[level] = level == 0 ? 0 : uint16(bound(uint256(keccak256(abi.encode(seed, "share", level))), 0, BPS));
            versions[level] = publish(
                address(uint160(0xA000 + level)),
                level == 0 ? bytes32(0) : versions[level - 1],
                shares[level],
                ICapabilityRegistry.AccessMode.PerCall,
                0,
                0,
                splits[level]
            );
        }

        settleItem(makeItem(PAYER_KEY, versions[depth], royalty, fee, 0));

        uint256 amount = royalty;
        uint256 credited = fee;
        for (uint256 level = depth + 1; level > 0 && amount > 0; --level) {
            uint256 i = level - 1;
            uint256 upstream = amount * shares[i] / BPS;
            uint256 kept = amount - upstream;
            uint256 others;
            for (uint256 j = 1; j < splits[i].length; ++j) {
                uint256 share = kept * splits[i][j].bps / BPS;
                others += share;
                assertEq(settlement.balanceOf(splits[i][j].recipient), share, "recipient share");
            }
            assertEq(settlement.balanceOf(splits[i][0].recipient), kept - others, "first recipient takes the remainder");
            credited += kept;
            amount = upstream;
        }
        assertEq(credited, royalty + fee, "every unit credited exactly once");
        assertEq(settlement.balanceOf(executor), fee, "executor fee");
        assertEq(settlement.totalOwed(), royalty + fee, "totalOwed");
        assertEq(usdc.balanceOf(address(settlement)), royalty + fee, "held == owed");
    }

    /// @notice A claim pays exactly the balance, once; the second claim has nothing.
    function testFuzz_claimPaysExactlyTheBalance(uint256 royalty, uint256 fee) public {
        royalty = bound(royalty, 1, 1e18);
        fee = bound(fee, 1, 1e18);
        bytes32 version = publish(address(0xA1), bytes32(0), 0, ICapabilityRegistry.AccessMode.PerCall, 1, 0, makeSplits(0, 1, 0));
        settleItem(makeItem(PAYER_KEY, version, royalty, fee, 0));

        address recipient = recipientOf(0, 0);
        vm.prank(recipient);
        assertEq(settlement.claim(), royalty, "claim returns the balance");
        assertEq(usdc.balanceOf(recipient), royalty, "claim pays the balance");
        assertEq(settlement.balanceOf(recipient), 0, "balance emptied");
        vm.prank(recipient);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.NothingToClaim.selector, recipient));
        settlement.claim();

        vm.prank(executor);
        assertEq(settlement.claimTo(address(0xCAFE)), fee, "claimTo returns the balance");
        assertEq(usdc.balanceOf(address(0xCAFE)), fee, "claimTo pays to the given address");
        assertEq(settlement.totalOwed(), 0, "nothing owed");
        assertEq(usdc.balanceOf(address(settlement)), 0, "nothing held");
    }

    /// @notice However a settled payment is resubmitted (same item, new receipt, batch), it never settles again.
    function testFuzz_replayNeverSettles(uint256 royalty, uint256 fee) public {
        royalty = bound(royalty, 5, 1e18);
        fee = bound(fee, 0, 1e18);
        bytes32 version = publish(address(0xA1), bytes32(0), 0, ICapabilityRegistry.AccessMode.PerCall, 5, 0, makeSplits(0, 3, royalty));
        ISettlement.SettlementItem memory item = makeItem(PAYER_KEY, version, royalty, fee, 0);
        settleItem(item);
        uint256 owed = settlement.totalOwed();
        bytes32 key = keccak256(abi.encode(item.authorization.from, item.authorization.nonce));

        vm.expectRevert(abi.encodeWithSelector(ISettlement.AlreadySettled.selector, key));
        settleItem(item);

        ISettlement.SettlementItem[] memory batch = new ISettlement.SettlementItem[](2);
        batch[0] = item;
        batch[1] = item;
        assertEq(settlement.settleBatch(batch), 0, "batch settles no replay");
        assertEq(settlement.totalOwed(), owed, "nothing credited twice");
        assertEq(usdc.balanceOf(address(settlement)), owed, "held == owed");
    }
}
