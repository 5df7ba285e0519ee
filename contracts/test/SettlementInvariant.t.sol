// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {GlassboxFixture} from "./utils/GlassboxFixture.sol";
import {ICapabilityRegistry} from "../src/interfaces/ICapabilityRegistry.sol";
import {ISettlement} from "../src/interfaces/ISettlement.sol";
import {CapabilityRegistry} from "../src/CapabilityRegistry.sol";
import {Settlement} from "../src/Settlement.sol";
import {LocalUSDC} from "../src/LocalUSDC.sol";

/// @title Drives Settlement v2 with random sequences of receipts, honest and cheating royalty batches, slashes of
/// every kind, bonds, exits, licence purchases, stray transfers, sweeps and claims, keeping ghost totals the
/// invariants compare against.
contract SettlementHandler is GlassboxFixture {
    uint256 internal constant PAYERS = 4;

    /// @dev What the handler needs to rebuild a receipt it issued (storage cannot hold the nested struct).
    struct Issued {
        bytes32 versionId;
        uint256 royalty;
        uint256 fee;
        address payer;
        uint64 issuedAt;
        /// @dev the batch that settled it differently from what was signed (firstSeq 0: none)
        uint64 cheatBatchFirstSeq;
    }

    bytes32[] internal _versions;
    /// @dev The package owner of each of _versions (who may price its licence).
    address[] internal _owners;
    uint256 internal _holders;
    address[] internal _accounts;
    mapping(address => bool) internal _known;
    Issued[] internal _issued;
    mapping(uint64 firstSeq => bytes32[]) internal _batchVersions;
    mapping(uint64 firstSeq => uint256[]) internal _batchLines;
    /// @dev Lines the executor has settled, as the handler counts them.
    uint64 public settledLines;

    /// @notice USDC paid into Settlement as royalties, as bonds, stray; and what left it (claims, withdrawals, sweeps).
    uint256 public ghostRoyaltiesIn;
    uint256 public ghostLicencesIn;
    uint256 public ghostBondsIn;
    uint256 public ghostStrayIn;
    uint256 public ghostClaimed;
    uint256 public ghostBondsOut;
    uint256 public ghostSwept;
    /// @notice Set when a safety property broke during an action.
    bool public doubleSlash;
    bool public claimMismatch;
    bool public seqReused;
    bool public slashOverBond;
    bool public licenceTwice;

    constructor(LocalUSDC usdc_, CapabilityRegistry registry_, Settlement settlement_, address executor_) {
        usdc = usdc_;
        registry = registry_;
        settlement = settlement_;
        executor = executor_;
        for (uint256 k = 1; k <= PAYERS; ++k) _track(vm.addr(k));
        // Versions: a chain of forks down to MAX_FORK_DEPTH with uneven shares and splits, plus a per-fuel version.
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
            _owners.push(address(uint160(0xB000 + level)));
            for (uint256 j; j < splits.length; ++j) _track(splits[j].recipient);
        }
        ICapabilityRegistry.Split[] memory fuelSplits = makeSplits(20, 3, 42);
        _versions.push(publish(address(0xB0F0), bytes32(0), 0, ICapabilityRegistry.AccessMode.PerFuel, 3, 1000, fuelSplits));
        _owners.push(address(0xB0F0));
        for (uint256 j; j < fuelSplits.length; ++j) _track(fuelSplits[j].recipient);
    }

    /// @notice Every account that may hold a balance.
    function accounts() external view returns (address[] memory) {
        return _accounts;
    }

    // ------------------------------------------------------------ actions

    /// @notice The executor serves a paid call: a signed receipt (sometimes overcharging), not yet settled.
    function issue(uint256 payerSeed, uint256 versionSeed, uint256 royalty, uint256 fee) external {
        bytes32 version = _versions[bound(versionSeed, 0, _versions.length - 1)];
        uint256 minimum = settlement.minimumRoyalty(version, 1, 0);
        _issued.push(
            Issued({
                versionId: version,
                royalty: bound(royalty, minimum, 1e12),
                fee: bound(fee, 0, 2 * EXECUTOR_FEE),
                payer: vm.addr(bound(payerSeed, 1, PAYERS)),
                issuedAt: uint64(block.timestamp),
                cheatBatchFirstSeq: 0
            })
        );
    }

    /// @notice The executor settles its next issued receipts; with `cheat`, one line pays only the minimum.
    function settle(uint256 count, bool cheat, uint256 cheatIndex) external {
        uint256 pending = _issued.length - settledLines;
        if (pending == 0) return;
        count = bound(count, 1, pending);
        uint64 firstSeq = settlement.nextSeq(executor);
        if (firstSeq != settledLines + 1) seqReused = true;
        bytes32[] memory versions = _versions;
        uint256[] memory lines = new uint256[](count);
        uint256 cheatAt = cheat ? bound(cheatIndex, 0, count - 1) : type(uint256).max;
        uint256 total;
        for (uint256 i; i < count; ++i) {
            uint64 seq = firstSeq + uint64(i);
            Issued storage item = _issued[seq - 1];
            uint256 royalty = item.royalty;
            if (i == cheatAt) {
                royalty = settlement.minimumRoyalty(item.versionId, 1, 0);
                if (royalty != item.royalty) item.cheatBatchFirstSeq = firstSeq;
            }
            lines[i] = line(settlement.receiptId(_receipt(seq)), _indexOf(item.versionId), royalty);
            total += royalty;
        }
        vm.prank(executor);
        uint64 returned = settlement.settleRoyalties(versions, lines);
        if (returned != firstSeq || settlement.nextSeq(executor) != firstSeq + count) seqReused = true;
        _batchVersions[firstSeq] = versions;
        _batchLines[firstSeq] = lines;
        settledLines += uint64(count);
        ghostRoyaltiesIn += total;
    }

    /// @notice The executor adds to its bond.
    function postBond(uint256 amount) external {
        amount = bound(amount, 1, 1e13);
        vm.prank(executor);
        settlement.postBond(amount);
        ghostBondsIn += amount;
    }

    /// @notice The executor starts leaving (once).
    function beginExit() external {
        if (settlement.bondOf(executor) == 0 || settlement.exitAt(executor) != 0) return;
        vm.prank(executor);
        settlement.beginExit();
    }

    /// @notice Time passes (up to two weeks).
    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 14 days));
    }

    /// @notice The executor withdraws once the exit delay is over.
    function withdrawBond() external {
        uint64 exitAt = settlement.exitAt(executor);
        if (exitAt == 0 || block.timestamp < exitAt) return;
        vm.prank(executor);
        ghostBondsOut += settlement.withdrawBond();
    }

    /// @notice Anyone proves an unsettled receipt past its deadline.
    function slashOverdue(uint256 index) external {
        if (_issued.length == 0) return;
        uint64 seq = uint64(bound(index, 0, _issued.length - 1)) + 1;
        ISettlement.Receipt memory r = _receipt(seq);
        bytes32 id = settlement.receiptId(r);
        bool eligible = seq > settledLines && block.timestamp > r.deadline && settlement.bondOf(executor) != 0;
        if (!eligible || settlement.isSlashed(id)) {
            _expectNoSecondSlash(id, r);
            return;
        }
        uint256 bond = settlement.bondOf(executor);
        (uint256 paid, uint256 bounty) = settlement.slashOverdue(r, signReceipt(r));
        _checkSlash(bond, paid, bounty);
    }

    /// @notice Anyone proves a receipt the executor settled differently.
    function slashMismatch(uint256 index) external {
        if (_issued.length == 0) return;
        uint64 seq = uint64(bound(index, 0, _issued.length - 1)) + 1;
        uint64 firstSeq = _issued[seq - 1].cheatBatchFirstSeq;
        ISettlement.Receipt memory r = _receipt(seq);
        bytes32 id = settlement.receiptId(r);
        if (firstSeq == 0 || settlement.isSlashed(id) || settlement.bondOf(executor) == 0) return;
        uint256 bond = settlement.bondOf(executor);
        (uint256 paid, uint256 bounty) =
            settlement.slashMismatch(r, signReceipt(r), firstSeq, _batchVersions[firstSeq], _batchLines[firstSeq]);
        _checkSlash(bond, paid, bounty);
        try settlement.slashMismatch(r, signReceipt(r), firstSeq, _batchVersions[firstSeq], _batchLines[firstSeq]) {
            doubleSlash = true;
        } catch {}
    }

    /// @notice Anyone proves a receipt charging more than the registered fee.
    function slashOvercharge(uint256 index) external {
        if (_issued.length == 0) return;
        uint64 seq = uint64(bound(index, 0, _issued.length - 1)) + 1;
        ISettlement.Receipt memory r = _receipt(seq);
        bytes32 id = settlement.receiptId(r);
        if (r.executorFee <= EXECUTOR_FEE || settlement.bondOf(executor) == 0) return;
        if (settlement.isOverchargeSlashed(id)) {
            try settlement.slashOvercharge(r, signReceipt(r)) {
                doubleSlash = true;
            } catch {}
            return;
        }
        uint256 bond = settlement.bondOf(executor);
        (uint256 paid, uint256 bounty) = settlement.slashOvercharge(r, signReceipt(r));
        _checkSlash(bond, paid, bounty);
    }

    /// @notice The owner prices a version's licence and a payer buys one for a new holder; buying it again for the
    /// same holder must fail.
    function buyLicence(uint256 versionSeed, uint256 payerSeed, uint256 price) external {
        uint256 index = bound(versionSeed, 0, _versions.length - 1);
        bytes32 version = _versions[index];
        price = bound(price, 1, 1e12);
        vm.prank(_owners[index]);
        registry.setLicencePrice(version, price);
        address payer = vm.addr(bound(payerSeed, 1, PAYERS));
        address holder = address(uint160(0xD000 + ++_holders));
        usdc.mint(payer, 2 * price);
        vm.startPrank(payer);
        usdc.approve(address(settlement), 2 * price);
        settlement.buyLicence(version, holder, price);
        try settlement.buyLicence(version, holder, price) {
            licenceTwice = true;
        } catch {}
        vm.stopPrank();
        ghostLicencesIn += price;
    }

    /// @notice Stray USDC arrives (a plain transfer nobody is owed).
    function donate(uint256 amount) external {
        amount = bound(amount, 1, 1e12);
        usdc.mint(address(settlement), amount);
        ghostStrayIn += amount;
    }

    /// @notice Anyone sweeps the surplus (to the immutable recipient).
    function sweep() external {
        if (usdc.balanceOf(address(settlement)) <= settlement.totalOwed() + settlement.totalBonds()) return;
        ghostSwept += settlement.sweepSurplus();
    }

    /// @notice An account claims (to itself or elsewhere); a claim pays exactly the balance.
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

    /// @dev Rebuilds the signed receipt of sequence number `seq`.
    function _receipt(uint64 seq) internal view returns (ISettlement.Receipt memory r) {
        Issued storage item = _issued[seq - 1];
        r = makeReceipt(item.versionId, seq, item.royalty, item.fee, item.payer);
        r.issuedAt = item.issuedAt;
        r.deadline = item.issuedAt + 1 days;
    }

    /// @dev A slash of an already-slashed receipt must fail.
    function _expectNoSecondSlash(bytes32 id, ISettlement.Receipt memory r) internal {
        if (!settlement.isSlashed(id)) return;
        try settlement.slashOverdue(r, signReceipt(r)) {
            doubleSlash = true;
        } catch {}
    }

    /// @dev A slash never takes more than the bond held, and the bond shrinks by exactly what it paid.
    function _checkSlash(uint256 bondBefore, uint256 paid, uint256 bounty) internal {
        if (paid + bounty > bondBefore || settlement.bondOf(executor) != bondBefore - paid - bounty) slashOverBond = true;
        for (uint256 k = 1; k <= PAYERS; ++k) _track(vm.addr(k));
    }

    function _indexOf(bytes32 version) internal view returns (uint256) {
        for (uint256 i; i < _versions.length; ++i) {
            if (_versions[i] == version) return i;
        }
        revert("unknown version");
    }

    function _track(address account) internal {
        if (!_known[account]) {
            _known[account] = true;
            _accounts.push(account);
        }
    }
}

/// @title Invariants of the money paths (property 7 of issue 9)
contract SettlementInvariantTest is GlassboxFixture {
    SettlementHandler internal handler;

    function setUp() public {
        deployGlassbox();
        handler = new SettlementHandler(usdc, registry, settlement, executor);
        // The handler acts as the executor through pranks; the executor's funds and approval are set up here.
        targetContract(address(handler));
    }

    /// @notice USDC held == totalOwed + totalBonds + surplus, and each total matches the money that moved.
    /// hardhat-config: invariant.runs = 48
    /// hardhat-config: invariant.depth = 40
    /// hardhat-config: invariant.failOnRevert = true
    /// @dev failOnRevert: every handler action is built to succeed, so a revert is a bug, not noise.
    function invariant_heldEqualsOwedPlusBondsPlusSurplus() public view {
        uint256 owed = settlement.totalOwed();
        uint256 bonds = settlement.totalBonds();
        uint256 surplus = handler.ghostStrayIn() - handler.ghostSwept();
        assertEq(usdc.balanceOf(address(settlement)), owed + bonds + surplus, "held == owed + bonds + surplus");
        assertEq(bonds, settlement.bondOf(executor), "totalBonds == the one executor's bond");
        // Slashes move money from bonds to balances: the sum of both only changes by money in and out.
        assertEq(
            owed + bonds,
            handler.ghostRoyaltiesIn() + handler.ghostLicencesIn() + handler.ghostBondsIn() - handler.ghostClaimed()
                - handler.ghostBondsOut(),
            "owed + bonds == royalties + licences + bonds in - claims - withdrawals"
        );
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

    /// @notice A seq settles once (contiguous, never reused), a receipt is slashed at most once, no slash exceeds
    /// the bond, no claim pays anything but the caller's balance, a licence sells once per holder.
    /// hardhat-config: invariant.runs = 48
    /// hardhat-config: invariant.depth = 40
    function invariant_onceOnlyAndBounded() public view {
        assertEq(settlement.nextSeq(executor), handler.settledLines() + 1, "nextSeq == settled lines + 1");
        assertTrue(!handler.seqReused(), "a sequence number settled twice or out of order");
        assertTrue(!handler.doubleSlash(), "a receipt was slashed twice");
        assertTrue(!handler.slashOverBond(), "a slash exceeded the bond");
        assertTrue(!handler.claimMismatch(), "a claim paid other than the balance");
        assertTrue(!handler.licenceTwice(), "a licence was sold twice to one holder");
    }
}
