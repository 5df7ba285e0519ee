// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {GlassboxFixture} from "./utils/GlassboxFixture.sol";
import {ICapabilityRegistry} from "../src/interfaces/ICapabilityRegistry.sol";
import {ISettlement} from "../src/interfaces/ISettlement.sol";
import {CapabilityRegistry} from "../src/CapabilityRegistry.sol";
import {Settlement} from "../src/Settlement.sol";
import {LocalUSDC} from "../src/LocalUSDC.sol";

/// @title Drives Settlement with random sequences of settles, batches, front-runs, donations, replays and claims,
/// keeping ghost totals the invariants compare against.
contract SettlementHandler is GlassboxFixture {
    uint256 internal constant PAYERS = 4;

    bytes32[] internal _versions;
    address[] internal _accounts;
    mapping(address => bool) internal _known;
    ISettlement.SettlementItem[] internal _settled;
    ISettlement.SettlementItem[] internal _frontRun;

    /// @notice Sum of authorization values settled, claimed, and USDC sent in without a settlement.
    uint256 public ghostSettled;
    uint256 public ghostClaimed;
    uint256 public ghostSurplus;
    /// @notice Set if any replay ever settled or any claim paid other than the balance.
    bool public replaySettled;
    bool public claimMismatch;

    constructor(LocalUSDC usdc_, CapabilityRegistry registry_, Settlement settlement_, address executor_) {
        usdc = usdc_;
        registry = registry_;
        settlement = settlement_;
        executor = executor_;
        _track(executor_);
        for (uint256 k = 1; k <= PAYERS; ++k) usdc.mint(vm.addr(k), type(uint128).max);
        // Versions: an original, and a chain of forks down to MAX_FORK_DEPTH with uneven shares and splits.
        bytes32 parent;
        for (uint256 level; level <= registry.MAX_FORK_DEPTH(); ++level) {
            ICapabilityRegistry.Split[] memory splits = makeSplits(level, 1 + (level % 4), level * 7919);
            parent = publish(
                address(uint160(0xB000 + level)),
                parent,
                uint16(level == 0 ? 0 : 1000 + level * 977),
                ICapabilityRegistry.AccessMode.PerCall,
                1 + level,
                0,
                splits
            );
            _versions.push(parent);
            for (uint256 j; j < splits.length; ++j) _track(splits[j].recipient);
        }
    }

    function accounts() external view returns (address[] memory) {
        return _accounts;
    }

    // ------------------------------------------------------------ actions

    function settleOne(uint256 payerSeed, uint256 versionSeed, uint256 royalty, uint256 fee) external {
        ISettlement.SettlementItem memory item = _item(payerSeed, versionSeed, royalty, fee);
        settleItem(item);
        _recordSettled(item);
    }

    /// @dev Up to 6 items, some deliberately invalid (underpriced or replayed): only the valid ones may settle.
    function settleMany(uint256 seed, uint256 count) external {
        count = bound(count, 1, 6);
        ISettlement.SettlementItem[] memory items = new ISettlement.SettlementItem[](count);
        bool[] memory valid = new bool[](count);
        uint256 expected;
        for (uint256 i; i < count; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            if (r % 5 == 0 && _settled.length > 0) {
                items[i] = _settled[r % _settled.length]; // replay
            } else {
                items[i] = _item(r, r >> 8, r >> 16, r >> 32);
                if (r % 7 == 0) {
                    items[i].receipt.royalty = 0; // underpriced (every version has price >= 1)
                    items[i].authorization.value = items[i].receipt.executorFee;
                } else {
                    valid[i] = true;
                    ++expected;
                }
            }
        }
        uint256 settledCount = settlement.settleBatch(items);
        assertEq(settledCount, expected, "batch settles exactly the valid items");
        for (uint256 i; i < count; ++i) {
            if (valid[i]) _recordSettled(items[i]);
        }
    }

    /// @dev Someone submits the authorization straight to the token: the funds arrive unattributed.
    function frontRun(uint256 payerSeed, uint256 versionSeed, uint256 royalty, uint256 fee) external {
        ISettlement.SettlementItem memory item = _item(payerSeed, versionSeed, royalty, fee);
        ISettlement.Authorization memory a = item.authorization;
        usdc.transferWithAuthorization(a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, item.paymentSignature);
        ghostSurplus += a.value;
        _frontRun.push(item);
    }

    function settleFrontRun(uint256 index) external {
        if (_frontRun.length == 0) return;
        index = bound(index, 0, _frontRun.length - 1);
        ISettlement.SettlementItem memory item = _frontRun[index];
        _frontRun[index] = _frontRun[_frontRun.length - 1];
        _frontRun.pop();
        settleItem(item);
        ghostSurplus -= item.authorization.value;
        _recordSettled(item);
    }

    function donate(uint256 amount) external {
        amount = bound(amount, 1, 1e12);
        usdc.mint(address(settlement), amount);
        ghostSurplus += amount;
    }

    function replay(uint256 index) external {
        if (_settled.length == 0) return;
        ISettlement.SettlementItem memory item = _settled[bound(index, 0, _settled.length - 1)];
        try settlement.settle(item.receipt, item.receiptSignature, item.authorization, item.paymentSignature) {
            replaySettled = true;
        } catch {}
    }

    function claim(uint256 accountSeed, bool toOther) external {
        address account = _accounts[bound(accountSeed, 0, _accounts.length - 1)];
        uint256 balance = settlement.balanceOf(account);
        address to = toOther ? address(0xC1A1) : account;
        uint256 before = usdc.balanceOf(to);
        vm.prank(account);
        if (balance == 0) {
            try settlement.claim() {
                claimMismatch = true;
            } catch {}
            return;
        }
        uint256 paid = toOther ? settlement.claimTo(to) : settlement.claim();
        if (paid != balance || usdc.balanceOf(to) - before != balance || settlement.balanceOf(account) != 0) {
            claimMismatch = true;
        }
        ghostClaimed += paid;
    }

    // ------------------------------------------------------------ helpers

    function _item(uint256 payerSeed, uint256 versionSeed, uint256 royalty, uint256 fee)
        internal
        returns (ISettlement.SettlementItem memory)
    {
        bytes32 version = _versions[bound(versionSeed, 0, _versions.length - 1)];
        uint256 minimum = settlement.minimumRoyalty(version, 0);
        return makeItem(bound(payerSeed, 1, PAYERS), version, bound(royalty, minimum, 1e12), bound(fee, 0, 1e9), 0);
    }

    function _recordSettled(ISettlement.SettlementItem memory item) internal {
        ghostSettled += item.authorization.value;
        _settled.push(item);
    }

    function _track(address account) internal {
        if (!_known[account]) {
            _known[account] = true;
            _accounts.push(account);
        }
    }
}

/// @title Invariants of the money paths
contract SettlementInvariantTest is GlassboxFixture {
    SettlementHandler internal handler;

    function setUp() public {
        deployGlassbox();
        handler = new SettlementHandler(usdc, registry, settlement, executor);
        targetContract(address(handler));
    }

    /// @notice USDC held by Settlement == totalOwed + unattributed surplus, and totalOwed == settled - claimed.
    /// hardhat-config: invariant.runs = 48
    /// hardhat-config: invariant.depth = 40
    /// hardhat-config: invariant.failOnRevert = true
    /// @dev failOnRevert: every handler action is built to succeed, so a revert is a bug, not noise.
    function invariant_moneyInEqualsMoneyCredited() public view {
        uint256 owed = settlement.totalOwed();
        assertEq(usdc.balanceOf(address(settlement)), owed + handler.ghostSurplus(), "held == owed + surplus");
        assertEq(owed, handler.ghostSettled() - handler.ghostClaimed(), "owed == settled - claimed");
    }

    /// @notice totalOwed is exactly the sum of every unclaimed balance (no unit created or lost to rounding).
    /// hardhat-config: invariant.runs = 48
    /// hardhat-config: invariant.depth = 40
    function invariant_totalOwedIsSumOfBalances() public view {
        address[] memory accounts = handler.accounts();
        uint256 sum;
        for (uint256 i; i < accounts.length; ++i) sum += settlement.balanceOf(accounts[i]);
        assertEq(sum, settlement.totalOwed(), "sum of balances == totalOwed");
    }

    /// @notice No payment ever settles twice, and no claim pays anything but the caller's balance.
    /// hardhat-config: invariant.runs = 48
    /// hardhat-config: invariant.depth = 40
    function invariant_noReplayNoOverclaim() public view {
        assertTrue(!handler.replaySettled(), "a replay settled");
        assertTrue(!handler.claimMismatch(), "a claim paid other than the balance");
    }
}
