// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IDepositCollector} from "./interfaces/IDepositCollector.sol";

/// @title x402 batch-settlement payment channels (Glassbox's own implementation of the x402 EVM binding)
/// @notice Unidirectional payment channels for the x402 `batch-settlement` scheme, written from the scheme's public
///         specification and the ABI the stock x402 EVM client, server and facilitator call. A payer deposits once
///         into a channel identified by the EIP-712 hash of its immutable `ChannelConfig`, then signs a cumulative
///         `Voucher` per request. The receiver side claims the latest vouchers of many channels in one transaction
///         (accounting only) and `settle` sweeps everything claimed for a (receiver, token) to the receiver in one
///         transfer. The payer can leave unilaterally: `initiateWithdraw`, then `finalizeWithdraw` after the
///         channel's `withdrawDelay`, during which the receiver claims what it is owed. The receiver side can also
///         refund unclaimed escrow at once.
///
///         Money rule: tokens held == sum over channels of (balance) - sum over (receiver, token) of totalSettled;
///         a channel's `totalClaimed` never exceeds its `balance` nor its payer's signed `maxClaimableAmount`.
///
///         Hostile contract payers: a voucher signed by a contract wallet (payerAuthorizer == 0, payer has code)
///         is checked with an ERC-1271 `staticcall` capped at `ERC1271_GAS_LIMIT` gas whose return data is never
///         copied. If the wallet reverts, burns its gas allowance or answers anything but the magic value, that row
///         is skipped (`VoucherRejected`) instead of reverting the batch; the other rows are claimed. The call only
///         starts when at least the full cap (plus the 1/64 the EVM withholds) is left, so a relayer cannot starve a
///         honest wallet into a false rejection: with too little gas the whole transaction reverts instead. Budget
///         `ERC1271_GAS_LIMIT` of headroom per contract-payer row when setting a claim transaction's gas limit.
///         EOA-signed vouchers (ECDSA) fail deterministically and revert the batch (a simulation catches them).
/// @dev Installed by runtime code at its canonical address with `hardhat_setCode` on dev chains: no constructor, no
///      immutables. The EIP-712 domain separator is computed per call from `block.chainid` and `address(this)`.
contract BatchSettlement is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Immutable channel parameters; their EIP-712 hash is the channel id.
    struct ChannelConfig {
        address payer;
        address payerAuthorizer;
        address receiver;
        address receiverAuthorizer;
        address token;
        uint40 withdrawDelay;
        bytes32 salt;
    }

    /// @notice Escrow of one channel: `balance` (deposits minus withdrawals and refunds) and the cumulative
    ///         amount claimed by the receiver side.
    struct ChannelState {
        uint128 balance;
        uint128 totalClaimed;
    }

    /// @notice A pending timed withdrawal (`initiatedAt == 0` when none).
    struct WithdrawalState {
        uint128 amount;
        uint40 initiatedAt;
    }

    /// @notice Claimed and swept totals of one (receiver, token).
    struct ReceiverState {
        uint128 totalClaimed;
        uint128 totalSettled;
    }

    /// @notice What the payer signs (the channel is given in full so the contract can derive its id).
    struct Voucher {
        ChannelConfig channel;
        uint128 maxClaimableAmount;
    }

    /// @notice One claim row: a signed voucher and the new cumulative total claimed for its channel.
    struct VoucherClaim {
        Voucher voucher;
        bytes signature;
        uint128 totalClaimed;
    }

    /// @notice Shortest allowed withdraw delay (15 minutes), as in the x402 scheme.
    uint40 public constant MIN_WITHDRAW_DELAY = 900;
    /// @notice Longest allowed withdraw delay (30 days), as in the x402 scheme.
    uint40 public constant MAX_WITHDRAW_DELAY = 2_592_000;
    /// @notice Gas cap of one ERC-1271 voucher check (contract-wallet payers).
    uint256 public constant ERC1271_GAS_LIMIT = 100_000;

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant NAME_HASH = keccak256("x402 Batch Settlement");
    bytes32 private constant VERSION_HASH = keccak256("1");

    /// @notice EIP-712 type hash of `ChannelConfig`.
    bytes32 public constant CHANNEL_CONFIG_TYPEHASH = keccak256(
        "ChannelConfig(address payer,address payerAuthorizer,address receiver,address receiverAuthorizer,address token,uint40 withdrawDelay,bytes32 salt)"
    );
    /// @notice EIP-712 type hash of the payer's cumulative `Voucher`.
    bytes32 public constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint128 maxClaimableAmount)");
    /// @notice EIP-712 type hash of a receiver-authorized `Refund`.
    bytes32 public constant REFUND_TYPEHASH = keccak256("Refund(bytes32 channelId,uint256 nonce,uint128 amount)");
    /// @notice EIP-712 type hash of one `ClaimEntry` of a claim batch.
    bytes32 public constant CLAIM_ENTRY_TYPEHASH =
        keccak256("ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)");
    /// @notice EIP-712 type hash of a receiver-authorized `ClaimBatch`.
    bytes32 public constant CLAIM_BATCH_TYPEHASH = keccak256(
        "ClaimBatch(ClaimEntry[] claims)ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)"
    );

    /// @notice Escrow per channel id.
    mapping(bytes32 channelId => ChannelState) public channels;
    /// @notice Next nonce a `refundWithSignature` must carry; every executed refund advances it.
    mapping(bytes32 channelId => uint256) public refundNonce;
    /// @notice Pending timed withdrawal per channel id.
    mapping(bytes32 channelId => WithdrawalState) public pendingWithdrawals;
    /// @notice Claimed and swept totals per receiver and token.
    mapping(address receiver => mapping(address token => ReceiverState)) public receivers;

    /// @notice A channel received escrow while empty (first deposit, or a deposit after it was drained unclaimed).
    /// @param channelId The channel id.
    /// @param config The channel's configuration.
    event ChannelCreated(bytes32 indexed channelId, ChannelConfig config);
    /// @notice A channel's escrow returned to zero with nothing ever claimed.
    /// @param channelId The channel id.
    /// @param config The channel's configuration.
    event ChannelClosed(bytes32 indexed channelId, ChannelConfig config);
    /// @notice Funds were deposited into a channel.
    /// @param channelId The channel id.
    /// @param sender Who submitted the deposit (a facilitator, the payer or anyone holding the authorization).
    /// @param amount The amount deposited.
    /// @param newBalance The channel balance afterwards.
    event Deposited(bytes32 indexed channelId, address indexed sender, uint128 amount, uint128 newBalance);
    /// @notice The receiver side raised a channel's cumulative claimed total.
    /// @param channelId The channel id.
    /// @param sender Who submitted the claim.
    /// @param claimAmount The increase.
    /// @param newTotalClaimed The channel's claimed total afterwards.
    event Claimed(bytes32 indexed channelId, address indexed sender, uint128 claimAmount, uint128 newTotalClaimed);
    /// @notice A contract payer's ERC-1271 check failed (reverted, ran out of its gas cap or said no): the row was
    ///         skipped and the rest of the batch claimed.
    /// @param channelId The channel id of the skipped row.
    /// @param payer The contract wallet that rejected the voucher.
    /// @param maxClaimableAmount The voucher's ceiling.
    event VoucherRejected(bytes32 indexed channelId, address indexed payer, uint128 maxClaimableAmount);
    /// @notice Claimed funds were swept to their receiver.
    /// @param receiver The receiver paid.
    /// @param token The token moved.
    /// @param sender Who called `settle`.
    /// @param amount The amount transferred.
    event Settled(address indexed receiver, address indexed token, address indexed sender, uint128 amount);
    /// @notice Unclaimed escrow was refunded to the payer by the receiver side.
    /// @param channelId The channel id.
    /// @param sender Who submitted the refund.
    /// @param amount The amount refunded.
    event Refunded(bytes32 indexed channelId, address indexed sender, uint128 amount);
    /// @notice The payer side started a timed withdrawal.
    /// @param channelId The channel id.
    /// @param amount The amount requested (capped to unclaimed escrow at finalization).
    /// @param finalizeAfter The earliest timestamp `finalizeWithdraw` succeeds.
    event WithdrawInitiated(bytes32 indexed channelId, uint128 amount, uint40 finalizeAfter);
    /// @notice A timed withdrawal completed and funds went back to the payer.
    /// @param channelId The channel id.
    /// @param sender Who finalized it.
    /// @param amount The amount transferred to the payer.
    event WithdrawFinalized(bytes32 indexed channelId, address indexed sender, uint128 amount);

    /// @notice A channel config field is unusable.
    /// @param field The offending field.
    error InvalidChannelConfig(string field);
    /// @notice `withdrawDelay` lies outside [MIN_WITHDRAW_DELAY, MAX_WITHDRAW_DELAY].
    /// @param withdrawDelay The delay given.
    error WithdrawDelayOutOfRange(uint40 withdrawDelay);
    /// @notice A deposit, withdrawal or refund of zero.
    error ZeroAmount();
    /// @notice `deposit` was given the zero address as collector.
    error ZeroCollector();
    /// @notice The collector returned without the contract's token balance growing by exactly the amount.
    /// @param expected The deposit amount.
    /// @param received The balance increase observed.
    error DepositNotReceived(uint256 expected, uint256 received);
    /// @notice A claim with no rows.
    error EmptyBatch();
    /// @notice `claim` was called by someone other than the row channel's receiver or receiver authorizer.
    /// @param channelId The row's channel.
    /// @param caller The caller.
    error NotReceiverSide(bytes32 channelId, address caller);
    /// @notice A `claimWithSignature` row names a different receiver authorizer than the first row.
    /// @param index The row.
    /// @param expected The first row's receiver authorizer.
    /// @param found The row's receiver authorizer.
    error MixedReceiverAuthorizers(uint256 index, address expected, address found);
    /// @notice The receiver authorizer's claim-batch or refund signature is invalid.
    /// @param authorizer The receiver authorizer expected to have signed.
    error InvalidAuthorizerSignature(address authorizer);
    /// @notice A row claims more than its voucher's ceiling.
    /// @param channelId The row's channel.
    /// @param totalClaimed The cumulative total claimed.
    /// @param maxClaimableAmount The voucher's ceiling.
    error ClaimExceedsVoucher(bytes32 channelId, uint128 totalClaimed, uint128 maxClaimableAmount);
    /// @notice A row claims more than the channel's balance.
    /// @param channelId The row's channel.
    /// @param totalClaimed The cumulative total claimed.
    /// @param balance The channel's balance.
    error ClaimExceedsBalance(bytes32 channelId, uint128 totalClaimed, uint128 balance);
    /// @notice An ECDSA voucher signature does not recover to the payer authorizer (or the EOA payer).
    /// @param channelId The row's channel.
    error InvalidVoucherSignature(bytes32 channelId);
    /// @notice Less gas is left than a capped ERC-1271 check needs (the transaction must carry more gas).
    /// @param channelId The row's channel.
    /// @param gasLeft The gas left when the check was due.
    error InsufficientGasForSignatureCheck(bytes32 channelId, uint256 gasLeft);
    /// @notice A payer-side action by someone other than the payer or its payer authorizer.
    /// @param channelId The channel.
    /// @param caller The caller.
    error NotPayerSide(bytes32 channelId, address caller);
    /// @notice A refund by someone other than the receiver or receiver authorizer.
    /// @param channelId The channel.
    /// @param caller The caller.
    error NotRefunder(bytes32 channelId, address caller);
    /// @notice `initiateWithdraw` while a withdrawal is pending.
    /// @param channelId The channel.
    error WithdrawalAlreadyPending(bytes32 channelId);
    /// @notice `finalizeWithdraw` without a pending withdrawal.
    /// @param channelId The channel.
    error WithdrawalNotPending(bytes32 channelId);
    /// @notice `finalizeWithdraw` before the channel's withdraw delay elapsed.
    /// @param channelId The channel.
    /// @param finalizeAfter The earliest timestamp it succeeds.
    error WithdrawDelayNotElapsed(bytes32 channelId, uint256 finalizeAfter);
    /// @notice `initiateWithdraw` asks for more than the unclaimed escrow.
    /// @param channelId The channel.
    /// @param amount The amount asked.
    /// @param available The unclaimed escrow (balance - totalClaimed).
    error WithdrawExceedsAvailable(bytes32 channelId, uint128 amount, uint128 available);
    /// @notice `refundWithSignature` with a nonce other than the channel's current `refundNonce`.
    /// @param channelId The channel.
    /// @param expected The current refund nonce.
    /// @param given The nonce given.
    error InvalidRefundNonce(bytes32 channelId, uint256 expected, uint256 given);

    // ---------------------------------------------------------------------------------------------------------
    // Deposits
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Deposits `amount` into the channel of `config` through `collector` (anyone may submit: the
    ///         collector's authorization is bound to this channel and the payer's funds).
    /// @param config The channel configuration.
    /// @param amount The exact amount to deposit.
    /// @param collector The deposit collector that pulls the funds (e.g. the ERC-3009 collector).
    /// @param collectorData Collector-specific authorization data.
    function deposit(ChannelConfig calldata config, uint128 amount, address collector, bytes calldata collectorData)
        external
        nonReentrant
    {
        _requireValidConfig(config);
        if (amount == 0) revert ZeroAmount();
        if (collector == address(0)) revert ZeroCollector();
        bytes32 channelId = _channelId(config, _domainSeparator());
        ChannelState storage ch = channels[channelId];
        bool wasEmpty = ch.balance == 0 && ch.totalClaimed == 0;
        uint128 newBalance = ch.balance + amount;
        ch.balance = newBalance;

        IERC20 token = IERC20(config.token);
        uint256 before = token.balanceOf(address(this));
        IDepositCollector(collector).collect(config.payer, config.token, amount, channelId, collectorData);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert DepositNotReceived(amount, received);

        if (wasEmpty) emit ChannelCreated(channelId, config);
        emit Deposited(channelId, msg.sender, amount, newBalance);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Claims and settlement
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Claims a batch of vouchers; the caller must be the receiver or receiver authorizer of every row.
    /// @param voucherClaims The rows (a row at or below the channel's claimed total is a no-op).
    function claim(VoucherClaim[] calldata voucherClaims) external nonReentrant {
        uint256 count = voucherClaims.length;
        if (count == 0) revert EmptyBatch();
        bytes32 domainSeparator = _domainSeparator();
        for (uint256 i = 0; i < count; ++i) {
            VoucherClaim calldata row = voucherClaims[i];
            bytes32 channelId = _channelId(row.voucher.channel, domainSeparator);
            if (msg.sender != row.voucher.channel.receiver && msg.sender != row.voucher.channel.receiverAuthorizer) {
                revert NotReceiverSide(channelId, msg.sender);
            }
            _applyClaim(row, channelId, domainSeparator);
        }
    }

    /// @notice Claims a batch of vouchers authorized by the rows' common receiver authorizer's EIP-712
    ///         `ClaimBatch` signature; anyone may relay it.
    /// @param voucherClaims The rows, all with the same receiver authorizer.
    /// @param authorizerSignature The receiver authorizer's signature over `getClaimBatchDigest(voucherClaims)`.
    function claimWithSignature(VoucherClaim[] calldata voucherClaims, bytes calldata authorizerSignature)
        external
        nonReentrant
    {
        uint256 count = voucherClaims.length;
        if (count == 0) revert EmptyBatch();
        bytes32 domainSeparator = _domainSeparator();
        address authorizer = voucherClaims[0].voucher.channel.receiverAuthorizer;
        bytes32[] memory channelIds = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            address rowAuthorizer = voucherClaims[i].voucher.channel.receiverAuthorizer;
            if (rowAuthorizer != authorizer) revert MixedReceiverAuthorizers(i, authorizer, rowAuthorizer);
            channelIds[i] = _channelId(voucherClaims[i].voucher.channel, domainSeparator);
        }
        bytes32 digest = _claimBatchDigest(voucherClaims, channelIds, domainSeparator);
        if (!SignatureChecker.isValidSignatureNowCalldata(authorizer, digest, authorizerSignature)) {
            revert InvalidAuthorizerSignature(authorizer);
        }
        for (uint256 i = 0; i < count; ++i) {
            _applyClaim(voucherClaims[i], channelIds[i], domainSeparator);
        }
    }

    /// @notice Sweeps everything claimed but not yet swept for (`receiver`, `token`) to `receiver`; anyone may
    ///         call it (the funds can only go to the receiver).
    /// @param receiver The receiver to pay.
    /// @param token The token to sweep.
    function settle(address receiver, address token) external nonReentrant {
        ReceiverState storage rs = receivers[receiver][token];
        uint128 claimed = rs.totalClaimed;
        uint128 amount = claimed - rs.totalSettled;
        if (amount == 0) return;
        rs.totalSettled = claimed;
        IERC20(token).safeTransfer(receiver, amount);
        emit Settled(receiver, token, msg.sender, amount);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Payer exit: timed withdrawal
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Starts a timed withdrawal of up to `amount` of unclaimed escrow (payer or payer authorizer only).
    /// @param config The channel configuration.
    /// @param amount The amount to withdraw; at most balance - totalClaimed now, capped again at finalization.
    function initiateWithdraw(ChannelConfig calldata config, uint128 amount) external nonReentrant {
        bytes32 channelId = _channelId(config, _domainSeparator());
        _requirePayerSide(config, channelId);
        if (amount == 0) revert ZeroAmount();
        WithdrawalState storage ws = pendingWithdrawals[channelId];
        if (ws.initiatedAt != 0) revert WithdrawalAlreadyPending(channelId);
        ChannelState storage ch = channels[channelId];
        uint128 available = ch.balance - ch.totalClaimed;
        if (amount > available) revert WithdrawExceedsAvailable(channelId, amount, available);
        uint40 nowTs = uint40(block.timestamp);
        ws.amount = amount;
        ws.initiatedAt = nowTs;
        emit WithdrawInitiated(channelId, amount, nowTs + config.withdrawDelay);
    }

    /// @notice Completes a pending withdrawal once the channel's withdraw delay has passed, sending the requested
    ///         amount, capped to the escrow still unclaimed, to the payer (payer or payer authorizer only).
    /// @param config The channel configuration.
    function finalizeWithdraw(ChannelConfig calldata config) external nonReentrant {
        bytes32 channelId = _channelId(config, _domainSeparator());
        _requirePayerSide(config, channelId);
        WithdrawalState storage ws = pendingWithdrawals[channelId];
        uint256 initiatedAt = ws.initiatedAt;
        if (initiatedAt == 0) revert WithdrawalNotPending(channelId);
        uint256 finalizeAfter = initiatedAt + config.withdrawDelay;
        if (block.timestamp < finalizeAfter) revert WithdrawDelayNotElapsed(channelId, finalizeAfter);
        ChannelState storage ch = channels[channelId];
        uint128 available = ch.balance - ch.totalClaimed;
        uint128 amount = ws.amount < available ? ws.amount : available;
        delete pendingWithdrawals[channelId];
        uint128 newBalance = ch.balance - amount;
        ch.balance = newBalance;
        emit WithdrawFinalized(channelId, msg.sender, amount);
        if (newBalance == 0 && ch.totalClaimed == 0) emit ChannelClosed(channelId, config);
        if (amount != 0) IERC20(config.token).safeTransfer(config.payer, amount);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Cooperative refunds
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Refunds up to `amount` of unclaimed escrow to the payer (receiver or receiver authorizer only).
    ///         Advances `refundNonce` even when nothing is left to refund.
    /// @param config The channel configuration.
    /// @param amount The amount to refund, capped to balance - totalClaimed.
    function refund(ChannelConfig calldata config, uint128 amount) external nonReentrant {
        bytes32 channelId = _channelId(config, _domainSeparator());
        if (msg.sender != config.receiver && msg.sender != config.receiverAuthorizer) {
            revert NotRefunder(channelId, msg.sender);
        }
        _refund(config, channelId, amount);
    }

    /// @notice Refunds up to `amount` to the payer on the receiver authorizer's EIP-712 `Refund` signature for the
    ///         channel's current refund nonce; anyone may relay it.
    /// @param config The channel configuration.
    /// @param amount The signed amount, capped to balance - totalClaimed.
    /// @param nonce Must equal `refundNonce(channelId)`.
    /// @param receiverAuthorizerSignature The receiver authorizer's signature over `getRefundDigest`.
    function refundWithSignature(
        ChannelConfig calldata config,
        uint128 amount,
        uint256 nonce,
        bytes calldata receiverAuthorizerSignature
    ) external nonReentrant {
        bytes32 domainSeparator = _domainSeparator();
        bytes32 channelId = _channelId(config, domainSeparator);
        uint256 expected = refundNonce[channelId];
        if (nonce != expected) revert InvalidRefundNonce(channelId, expected, nonce);
        bytes32 digest =
            _typedDataHash(domainSeparator, keccak256(abi.encode(REFUND_TYPEHASH, channelId, nonce, amount)));
        if (!SignatureChecker.isValidSignatureNowCalldata(config.receiverAuthorizer, digest, receiverAuthorizerSignature))
        {
            revert InvalidAuthorizerSignature(config.receiverAuthorizer);
        }
        _refund(config, channelId, amount);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Batching
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Runs several calls of this contract in one transaction, in order, as the caller (e.g. a claim then a
    ///         refund); any failure reverts all of them with the failing call's revert data.
    /// @param data ABI-encoded calls of this contract.
    /// @return results Each call's return data.
    function multicall(bytes[] calldata data) external returns (bytes[] memory results) {
        results = new bytes[](data.length);
        for (uint256 i = 0; i < data.length; ++i) {
            (bool ok, bytes memory returned) = address(this).delegatecall(data[i]);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(returned, 0x20), mload(returned))
                }
            }
            results[i] = returned;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------------

    /// @notice The channel id of `config`: its EIP-712 hash under this contract's domain.
    /// @param config The channel configuration.
    /// @return The channel id.
    function getChannelId(ChannelConfig calldata config) external view returns (bytes32) {
        return _channelId(config, _domainSeparator());
    }

    /// @notice The EIP-712 digest a payer signs for a voucher.
    /// @param channelId The channel id.
    /// @param maxClaimableAmount The cumulative ceiling.
    /// @return The digest.
    function getVoucherDigest(bytes32 channelId, uint128 maxClaimableAmount) external view returns (bytes32) {
        return _voucherDigest(channelId, maxClaimableAmount, _domainSeparator());
    }

    /// @notice The EIP-712 digest a receiver authorizer signs for a refund.
    /// @param channelId The channel id.
    /// @param nonce The refund nonce.
    /// @param amount The refund amount.
    /// @return The digest.
    function getRefundDigest(bytes32 channelId, uint256 nonce, uint128 amount) external view returns (bytes32) {
        return _typedDataHash(_domainSeparator(), keccak256(abi.encode(REFUND_TYPEHASH, channelId, nonce, amount)));
    }

    /// @notice The EIP-712 digest a receiver authorizer signs for a claim batch.
    /// @param voucherClaims The rows.
    /// @return The digest.
    function getClaimBatchDigest(VoucherClaim[] calldata voucherClaims) external view returns (bytes32) {
        bytes32 domainSeparator = _domainSeparator();
        bytes32[] memory channelIds = new bytes32[](voucherClaims.length);
        for (uint256 i = 0; i < voucherClaims.length; ++i) {
            channelIds[i] = _channelId(voucherClaims[i].voucher.channel, domainSeparator);
        }
        return _claimBatchDigest(voucherClaims, channelIds, domainSeparator);
    }

    /// @notice This contract's EIP-712 domain separator ("x402 Batch Settlement", "1", chain id, this address).
    /// @return The domain separator.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparator();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Applies one claim row: no-op at or below the claimed total; otherwise checks the ceiling, the balance
    ///      and the payer's voucher signature, then books the increase for the channel and its receiver.
    function _applyClaim(VoucherClaim calldata row, bytes32 channelId, bytes32 domainSeparator) private {
        ChannelState storage ch = channels[channelId];
        uint128 previous = ch.totalClaimed;
        uint128 total = row.totalClaimed;
        if (total <= previous) return;
        uint128 ceiling = row.voucher.maxClaimableAmount;
        if (total > ceiling) revert ClaimExceedsVoucher(channelId, total, ceiling);
        uint128 balance = ch.balance;
        if (total > balance) revert ClaimExceedsBalance(channelId, total, balance);
        ChannelConfig calldata config = row.voucher.channel;
        if (!_voucherSignatureHolds(config, channelId, _voucherDigest(channelId, ceiling, domainSeparator), row.signature)) {
            emit VoucherRejected(channelId, config.payer, ceiling);
            return;
        }
        uint128 delta = total - previous;
        ch.totalClaimed = total;
        receivers[config.receiver][config.token].totalClaimed += delta;
        emit Claimed(channelId, msg.sender, delta, total);
    }

    /// @dev True when the voucher signature holds. ECDSA signers (the payer authorizer, or an EOA payer) that fail
    ///      revert; a contract payer's capped ERC-1271 check that fails returns false (the row is skipped).
    function _voucherSignatureHolds(
        ChannelConfig calldata config,
        bytes32 channelId,
        bytes32 digest,
        bytes calldata signature
    ) private view returns (bool) {
        address payerAuthorizer = config.payerAuthorizer;
        if (payerAuthorizer != address(0)) {
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
            if (err != ECDSA.RecoverError.NoError || signer != payerAuthorizer) revert InvalidVoucherSignature(channelId);
            return true;
        }
        address payer = config.payer;
        // An ECDSA signature by the payer's own key holds whatever code it has (EIP-7702 accounts included).
        (address recovered, ECDSA.RecoverError recoverError,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (recoverError == ECDSA.RecoverError.NoError && recovered == payer) return true;
        if (payer.code.length == 0) revert InvalidVoucherSignature(channelId);
        return _cappedErc1271Check(payer, channelId, digest, signature);
    }

    /// @dev ERC-1271 `isValidSignature` with at most ERC1271_GAS_LIMIT gas and no return-data copy beyond one word
    ///      (a hostile wallet can neither burn the batch's gas nor bloat its memory).
    function _cappedErc1271Check(address wallet, bytes32 channelId, bytes32 digest, bytes calldata signature)
        private
        view
        returns (bool valid)
    {
        // The EVM forwards at most 63/64 of what is left: demand the full cap plus that share, so a relayer cannot
        // make an honest wallet fail by sending the transaction with too little gas.
        uint256 gasLeft = gasleft();
        if (gasLeft < ERC1271_GAS_LIMIT + ERC1271_GAS_LIMIT / 63 + 5_000) {
            revert InsufficientGasForSignatureCheck(channelId, gasLeft);
        }
        bytes memory callData = abi.encodeCall(IERC1271.isValidSignature, (digest, signature));
        bytes4 magic = IERC1271.isValidSignature.selector;
        uint256 gasCap = ERC1271_GAS_LIMIT;
        assembly ("memory-safe") {
            mstore(0x00, 0)
            let ok := staticcall(gasCap, wallet, add(callData, 0x20), mload(callData), 0x00, 0x20)
            valid := and(and(ok, gt(returndatasize(), 0x1f)), eq(mload(0x00), magic))
        }
    }

    /// @dev Refunds up to `amount` of unclaimed escrow; the nonce advances first, even when nothing moves.
    function _refund(ChannelConfig calldata config, bytes32 channelId, uint128 amount) private {
        if (amount == 0) revert ZeroAmount();
        unchecked {
            ++refundNonce[channelId];
        }
        ChannelState storage ch = channels[channelId];
        uint128 available = ch.balance - ch.totalClaimed;
        uint128 refunded = amount < available ? amount : available;
        if (refunded == 0) return;
        uint128 newBalance = ch.balance - refunded;
        ch.balance = newBalance;
        WithdrawalState storage ws = pendingWithdrawals[channelId];
        if (ws.initiatedAt != 0) {
            if (refunded >= ws.amount) delete pendingWithdrawals[channelId];
            else ws.amount -= refunded;
        }
        emit Refunded(channelId, msg.sender, refunded);
        if (newBalance == 0 && ch.totalClaimed == 0) emit ChannelClosed(channelId, config);
        IERC20(config.token).safeTransfer(config.payer, refunded);
    }

    /// @dev Reverts unless the caller is the payer or its (non-zero) payer authorizer.
    function _requirePayerSide(ChannelConfig calldata config, bytes32 channelId) private view {
        if (msg.sender != config.payer && (config.payerAuthorizer == address(0) || msg.sender != config.payerAuthorizer))
        {
            revert NotPayerSide(channelId, msg.sender);
        }
    }

    /// @dev Rejects configs that could never be settled or exited.
    function _requireValidConfig(ChannelConfig calldata config) private pure {
        if (config.payer == address(0)) revert InvalidChannelConfig("payer");
        if (config.receiver == address(0)) revert InvalidChannelConfig("receiver");
        if (config.receiverAuthorizer == address(0)) revert InvalidChannelConfig("receiverAuthorizer");
        if (config.token == address(0)) revert InvalidChannelConfig("token");
        if (config.withdrawDelay < MIN_WITHDRAW_DELAY || config.withdrawDelay > MAX_WITHDRAW_DELAY) {
            revert WithdrawDelayOutOfRange(config.withdrawDelay);
        }
    }

    /// @dev EIP-712 hash of the ClaimBatch over the rows and their precomputed channel ids.
    function _claimBatchDigest(VoucherClaim[] calldata rows, bytes32[] memory channelIds, bytes32 domainSeparator)
        private
        pure
        returns (bytes32)
    {
        uint256 count = rows.length;
        bytes32[] memory entryHashes = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            entryHashes[i] = keccak256(
                abi.encode(CLAIM_ENTRY_TYPEHASH, channelIds[i], rows[i].voucher.maxClaimableAmount, rows[i].totalClaimed)
            );
        }
        return _typedDataHash(
            domainSeparator, keccak256(abi.encode(CLAIM_BATCH_TYPEHASH, keccak256(abi.encodePacked(entryHashes))))
        );
    }

    /// @dev EIP-712 digest of a Voucher.
    function _voucherDigest(bytes32 channelId, uint128 maxClaimableAmount, bytes32 domainSeparator)
        private
        pure
        returns (bytes32)
    {
        return _typedDataHash(domainSeparator, keccak256(abi.encode(VOUCHER_TYPEHASH, channelId, maxClaimableAmount)));
    }

    /// @dev The channel id: EIP-712 digest of the ChannelConfig struct under this contract's domain.
    function _channelId(ChannelConfig calldata config, bytes32 domainSeparator) private pure returns (bytes32) {
        return _typedDataHash(domainSeparator, keccak256(abi.encode(CHANNEL_CONFIG_TYPEHASH, config)));
    }

    /// @dev The domain separator for this chain and address (computed per call: runtime code has no constructor).
    function _domainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    /// @dev keccak256("\x19\x01" ‖ domainSeparator ‖ structHash).
    function _typedDataHash(bytes32 domainSeparator, bytes32 structHash) private pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, hex"1901")
            mstore(add(ptr, 0x02), domainSeparator)
            mstore(add(ptr, 0x22), structHash)
            digest := keccak256(ptr, 0x42)
        }
    }
}
