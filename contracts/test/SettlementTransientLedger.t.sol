// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {GlassboxFixture} from "./utils/GlassboxFixture.sol";
import {ICapabilityRegistry} from "../src/interfaces/ICapabilityRegistry.sol";
import {ISettlement} from "../src/interfaces/ISettlement.sol";

/// @title Settlement's per-transaction ledger index lives in transient storage (EIP-1153), which lasts for the
/// whole transaction: several settle/settleBatch calls in ONE transaction (as a multicall or a contract
/// wallet makes) must each start with an empty index. A Solidity test function runs as one transaction.
contract SettlementTransientLedgerTest is GlassboxFixture {
    uint256 internal constant PAYER_KEY = 0xBEEF;
    uint256 internal constant FEE = 7;

    bytes32[3] internal versions;
    uint256[3] internal expected;
    uint256 internal expectedFees;

    function setUp() public {
        deployGlassbox();
        usdc.mint(vm.addr(PAYER_KEY), type(uint128).max);
        for (uint256 v; v < 3; ++v) {
            versions[v] = publish(address(0xA1), bytes32(0), 0, ICapabilityRegistry.AccessMode.PerCall, 1, 0, makeSplits(v, 1, 0));
        }
    }

    function item(uint256 v, uint256 royalty) internal returns (ISettlement.SettlementItem memory) {
        expected[v] += royalty;
        expectedFees += FEE;
        return makeItem(PAYER_KEY, versions[v], royalty, FEE, 0);
    }

    /// @notice Batch, batch in another order, single settle, batch again: every credit exact, in one transaction.
    function test_consecutiveCallsInOneTransactionStartClean() public {
        ISettlement.SettlementItem[] memory first = new ISettlement.SettlementItem[](3);
        first[0] = item(0, 100);
        first[1] = item(1, 200);
        first[2] = item(2, 300);
        assertEq(settlement.settleBatch(first), 3, "first batch settles");

        // Reversed order: a stale index from the first call would point at the wrong (or an unset) credit.
        ISettlement.SettlementItem[] memory second = new ISettlement.SettlementItem[](2);
        second[0] = item(2, 11);
        second[1] = item(0, 13);
        assertEq(settlement.settleBatch(second), 2, "second batch settles");

        settleItem(item(1, 17));

        ISettlement.SettlementItem[] memory third = new ISettlement.SettlementItem[](4);
        third[0] = item(1, 19);
        third[1] = item(1, 23);
        third[2] = item(2, 29);
        third[3] = item(0, 31);
        assertEq(settlement.settleBatch(third), 4, "third batch settles");

        uint256 owed = expectedFees;
        for (uint256 v; v < 3; ++v) {
            assertEq(settlement.balanceOf(recipientOf(v, 0)), expected[v], "royalty of each version, exactly");
            owed += expected[v];
        }
        assertEq(settlement.balanceOf(executor), expectedFees, "executor fees, exactly");
        assertEq(settlement.totalOwed(), owed, "totalOwed");
        assertEq(usdc.balanceOf(address(settlement)), owed, "held == owed");
    }

    /// @notice A single settle with more credits than its linear scan covers (10 recipients) switches to the
    /// transient index; the next settle and batch in the same transaction must still credit exactly.
    function test_wideSettlesInOneTransactionStartClean() public {
        ICapabilityRegistry.Split[] memory splits = makeSplits(5, 10, 42);
        bytes32 wide = publish(address(0xA1), bytes32(0), 0, ICapabilityRegistry.AccessMode.PerCall, 1, 0, splits);
        // At least 10000 each: every recipient's share is non-zero, so each settle really makes 11 credits.
        uint256[4] memory royalties = [uint256(1_000_000), 777_777, 12_345_678, 10_000];
        settleItem(makeItem(PAYER_KEY, wide, royalties[0], FEE, 0));
        settleItem(makeItem(PAYER_KEY, wide, royalties[1], FEE, 0));
        ISettlement.SettlementItem[] memory batch = new ISettlement.SettlementItem[](2);
        batch[0] = makeItem(PAYER_KEY, wide, royalties[2], FEE, 0);
        batch[1] = makeItem(PAYER_KEY, wide, royalties[3], FEE, 0);
        assertEq(settlement.settleBatch(batch), 2, "batch settles");

        uint256 owed = 4 * FEE;
        uint256[] memory expectedShares = new uint256[](splits.length);
        // Each item is split on its own (floor per recipient, remainder to the first); a batch only sums credits.
        for (uint256 k; k < royalties.length; ++k) {
            uint256 paid;
            for (uint256 j = 1; j < splits.length; ++j) {
                uint256 share = royalties[k] * splits[j].bps / BPS;
                expectedShares[j] += share;
                paid += share;
            }
            expectedShares[0] += royalties[k] - paid;
            owed += royalties[k];
        }
        for (uint256 j; j < splits.length; ++j) {
            assertEq(settlement.balanceOf(splits[j].recipient), expectedShares[j], "each recipient, exactly");
        }
        assertEq(settlement.balanceOf(executor), 4 * FEE, "executor fees, exactly");
        assertEq(settlement.totalOwed(), owed, "totalOwed");
        assertEq(usdc.balanceOf(address(settlement)), owed, "held == owed");
    }
}
