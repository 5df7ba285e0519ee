// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {GlassboxFixture} from "./utils/GlassboxFixture.sol";
import {ICapabilityRegistry} from "../src/interfaces/ICapabilityRegistry.sol";
import {ISettlement} from "../src/interfaces/ISettlement.sol";

/// @title Fuzz tests on the v2 money paths: exact fork-chain splits, batches, slashes bounded by the bond, sweeps
contract SettlementFuzzTest is GlassboxFixture {
    address internal constant PAYER = address(0xBEEF);

    function setUp() public {
        deployGlassbox();
    }

    /// @dev Settles one line of `royalty` for `versionId` as the executor.
    function settleOne(bytes32 versionId, uint256 royalty) internal {
        uint64 seq = settlement.nextSeq(executor);
        ISettlement.Receipt memory r = makeReceipt(versionId, seq, royalty, 0, PAYER);
        bytes32[] memory versions = new bytes32[](1);
        versions[0] = versionId;
        uint256[] memory lines = new uint256[](1);
        lines[0] = line(settlement.receiptId(r), 0, royalty);
        vm.prank(executor);
        settlement.settleRoyalties(versions, lines);
    }

    /// @notice Any fork chain up to MAX_FORK_DEPTH, any shares and splits: every unit lands somewhere defined.
    /// Level i receives a_i (a_0 = royalty), sends floor(a_i * share_i / 10000) up, splits the rest: each
    /// recipient but the first gets floor(kept * bps / 10000), the first gets what is left.
    /// hardhat-config: fuzz.runs = 200
    function testFuzz_forkChainSplitsExactly(uint256 royalty, uint256 depth, uint256 seed) public {
        royalty = bound(royalty, 0, 1e15);
        depth = bound(depth, 0, registry.MAX_FORK_DEPTH());

        bytes32[] memory versions = new bytes32[](depth + 1);
        uint16[] memory shares = new uint16[](depth + 1);
        ICapabilityRegistry.Split[][] memory splits = new ICapabilityRegistry.Split[][](depth + 1);
        for (uint256 level; level <= depth; ++level) {
            splits[level] = makeSplits(
                level, bound(uint256(keccak256(abi.encode(seed, level))), 1, 8), uint256(keccak256(abi.encode(seed, "splits", level)))
            );
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

        settleOne(versions[depth], royalty);

        uint256 amount = royalty;
        uint256 credited;
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
        assertEq(credited, royalty, "every unit credited exactly once");
        assertEq(settlement.totalOwed(), royalty, "totalOwed");
        assertEq(usdc.balanceOf(address(settlement)), royalty, "held == owed");
    }

    /// @notice A batch of up to 40 lines over 3 versions pulls exactly the sum of its lines and credits each version
    /// exactly its lines' sum; the sequence advances by the line count.
    /// hardhat-config: fuzz.runs = 100
    function testFuzz_batchCreditsEveryLine(uint256 count, uint256 seed) public {
        count = bound(count, 1, 40);
        bytes32[] memory versions = new bytes32[](3);
        for (uint256 v; v < 3; ++v) {
            versions[v] = publish(address(uint160(0xA1 + v)), bytes32(0), 0, ICapabilityRegistry.AccessMode.PerCall, 5, 0, makeSplits(v, 1, 0));
        }
        uint256[] memory lines = new uint256[](count);
        uint256[3] memory expected;
        uint256 total;
        for (uint256 i; i < count; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 v = r % 3;
            uint256 royalty = bound(r >> 8, 5, 1e12);
            lines[i] = line(bytes32(r), v, royalty);
            expected[v] += royalty;
            total += royalty;
        }
        uint256 before = usdc.balanceOf(executor);
        vm.prank(executor);
        assertEq(settlement.settleRoyalties(versions, lines), 1, "first batch starts at 1");
        assertEq(before - usdc.balanceOf(executor), total, "pulled exactly the sum of the lines");
        for (uint256 v; v < 3; ++v) assertEq(settlement.balanceOf(recipientOf(v, 0)), expected[v], "each version's sum");
        assertEq(settlement.nextSeq(executor), 1 + count, "nextSeq advanced by the line count");
        assertTrue(settlement.batchHash(executor, 1) == keccak256(abi.encode(versions, lines)), "batch hash stored");
    }

    /// @notice An overdue slash pays min(owed, bond) in royalties and min(rest, 10%) as bounty, never more than the bond.
    /// hardhat-config: fuzz.runs = 200
    function testFuzz_slashPaysAtMostTheBond(uint256 bond, uint256 royalty) public {
        bond = bound(bond, 1, 1e15);
        royalty = bound(royalty, 1, 1e15);
        bytes32 versionId = publish(address(0xA1), bytes32(0), 0, ICapabilityRegistry.AccessMode.PerCall, 1, 0, makeSplits(0, 3, royalty));
        vm.prank(executor);
        settlement.postBond(bond);
        ISettlement.Receipt memory r = makeReceipt(versionId, 1, royalty, 0, PAYER);
        vm.warp(block.timestamp + 2 days);
        (uint256 paid, uint256 bounty) = settlement.slashOverdue(r, signReceipt(r));
        uint256 expectedPaid = royalty < bond ? royalty : bond;
        uint256 expectedBounty = expectedPaid / 10 < bond - expectedPaid ? expectedPaid / 10 : bond - expectedPaid;
        assertEq(paid, expectedPaid, "royalties paid");
        assertEq(bounty, expectedBounty, "bounty");
        assertEq(settlement.balanceOf(PAYER), bounty, "bounty credited to the payer");
        assertEq(settlement.bondOf(executor), bond - paid - bounty, "bond debited by exactly the payout");
        assertEq(usdc.balanceOf(address(settlement)), settlement.totalOwed() + settlement.totalBonds(), "held == owed + bonds");
        bytes memory signature = signReceipt(r);
        bytes32 id = settlement.receiptId(r);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.AlreadySlashed.selector, id));
        settlement.slashOverdue(r, signature);
    }

    /// @notice Whatever is owed and bonded, a sweep sends exactly the stray funds and nothing else.
    /// hardhat-config: fuzz.runs = 100
    function testFuzz_sweepTakesOnlyStrayFunds(uint256 royalty, uint256 bond, uint256 stray) public {
        royalty = bound(royalty, 1, 1e15);
        bond = bound(bond, 1, 1e15);
        stray = bound(stray, 1, 1e15);
        bytes32 versionId = publish(address(0xA1), bytes32(0), 0, ICapabilityRegistry.AccessMode.PerCall, 1, 0, makeSplits(0, 2, stray));
        settleOne(versionId, royalty);
        vm.prank(executor);
        settlement.postBond(bond);
        usdc.mint(address(settlement), stray);
        vm.prank(address(0xBAD));
        assertEq(settlement.sweepSurplus(), stray, "swept exactly the stray funds");
        assertEq(usdc.balanceOf(SURPLUS_RECIPIENT), stray, "to the surplus recipient");
        assertEq(usdc.balanceOf(address(0xBAD)), 0, "never to the caller");
        assertEq(usdc.balanceOf(address(settlement)), royalty + bond, "owed and bonds intact");
        vm.expectRevert(ISettlement.NoSurplus.selector);
        settlement.sweepSurplus();
    }

    /// @notice A claim pays exactly the balance, once; the second claim has nothing.
    /// hardhat-config: fuzz.runs = 100
    function testFuzz_claimPaysExactlyTheBalance(uint256 royalty) public {
        royalty = bound(royalty, 1, 1e18);
        bytes32 versionId = publish(address(0xA1), bytes32(0), 0, ICapabilityRegistry.AccessMode.PerCall, 1, 0, makeSplits(0, 1, 0));
        settleOne(versionId, royalty);
        address recipient = recipientOf(0, 0);
        vm.prank(recipient);
        assertEq(settlement.claimTo(address(0xCAFE)), royalty, "claimTo returns the balance");
        assertEq(usdc.balanceOf(address(0xCAFE)), royalty, "claimTo pays to the given address");
        assertEq(settlement.balanceOf(recipient), 0, "balance emptied");
        vm.prank(recipient);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.NothingToClaim.selector, recipient));
        settlement.claim();
        assertEq(settlement.totalOwed(), 0, "nothing owed");
    }

    /// @notice The transient index (EIP-1153) lasts for the whole transaction: several batches and slashes in ONE
    /// transaction (a Solidity test function is one) must each start clean, in any order.
    function test_consecutiveCallsInOneTransactionStartClean() public {
        bytes32[] memory versions = new bytes32[](3);
        for (uint256 v; v < 3; ++v) {
            versions[v] = publish(address(0xA1), bytes32(0), 0, ICapabilityRegistry.AccessMode.PerCall, 1, 0, makeSplits(v, 1, 0));
        }
        uint256[] memory first = new uint256[](3);
        first[0] = line(bytes32(uint256(1)), 0, 100);
        first[1] = line(bytes32(uint256(2)), 1, 200);
        first[2] = line(bytes32(uint256(3)), 2, 300);
        vm.prank(executor);
        settlement.settleRoyalties(versions, first);
        // Reversed order: a stale index from the first call would point at the wrong (or an unset) credit.
        bytes32[] memory reversed = new bytes32[](3);
        for (uint256 v; v < 3; ++v) reversed[v] = versions[2 - v];
        uint256[] memory second = new uint256[](2);
        second[0] = line(bytes32(uint256(4)), 0, 11); // versions[2]
        second[1] = line(bytes32(uint256(5)), 2, 13); // versions[0]
        vm.prank(executor);
        settlement.settleRoyalties(reversed, second);
        vm.prank(executor);
        settlement.postBond(1000);
        ISettlement.Receipt memory r = makeReceipt(versions[1], 0, 17, 0, PAYER);
        settlement.slashOverdue(r, signReceipt(r));
        assertEq(settlement.balanceOf(recipientOf(0, 0)), 113, "version 0");
        assertEq(settlement.balanceOf(recipientOf(1, 0)), 217, "version 1 (200 + slash 17)");
        assertEq(settlement.balanceOf(recipientOf(2, 0)), 311, "version 2");
        assertEq(settlement.balanceOf(PAYER), 1, "bounty: 10% of 17");
        assertEq(settlement.totalOwed(), 113 + 217 + 311 + 1, "totalOwed");
    }
}
