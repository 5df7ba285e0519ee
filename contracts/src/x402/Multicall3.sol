// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title The Multicall3 read-batching surface the stock x402 clients use, for dev chains
/// @notice Installed at Multicall3's canonical address (0xcA11bde05977b3631167028862bE2a173976CA11) on the local
///         chain, where the real deployment does not exist. The stock x402 EVM batch-settlement facilitator reads channel
///         state through `tryAggregate`; viem's `multicall` uses `aggregate3`. Same ABI as Multicall3 for these
///         functions; stateless, non-payable.
contract Multicall3 {
    /// @notice A call for `aggregate` / `tryAggregate`.
    struct Call {
        address target;
        bytes callData;
    }

    /// @notice A call for `aggregate3`, with its own failure policy.
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    /// @notice The outcome of one call.
    struct Result {
        bool success;
        bytes returnData;
    }

    /// @notice A call that had to succeed failed.
    /// @param index The failing call.
    /// @param returnData Its revert data.
    error CallFailed(uint256 index, bytes returnData);

    /// @notice Runs every call; all must succeed.
    /// @param calls The calls.
    /// @return blockNumber The current block number.
    /// @return returnData Each call's return data.
    function aggregate(Call[] calldata calls) external returns (uint256 blockNumber, bytes[] memory returnData) {
        blockNumber = block.number;
        returnData = new bytes[](calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            (bool success, bytes memory data) = calls[i].target.call(calls[i].callData);
            if (!success) revert CallFailed(i, data);
            returnData[i] = data;
        }
    }

    /// @notice Runs every call, reverting on a failure only when `requireSuccess`.
    /// @param requireSuccess Whether any failure reverts the whole batch.
    /// @param calls The calls.
    /// @return returnData Each call's outcome.
    function tryAggregate(bool requireSuccess, Call[] calldata calls) external returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            (bool success, bytes memory data) = calls[i].target.call(calls[i].callData);
            if (requireSuccess && !success) revert CallFailed(i, data);
            returnData[i] = Result(success, data);
        }
    }

    /// @notice Runs every call, each with its own `allowFailure`.
    /// @param calls The calls.
    /// @return returnData Each call's outcome.
    function aggregate3(Call3[] calldata calls) external returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            (bool success, bytes memory data) = calls[i].target.call(calls[i].callData);
            if (!calls[i].allowFailure && !success) revert CallFailed(i, data);
            returnData[i] = Result(success, data);
        }
    }

    /// @notice The current block number.
    /// @return blockNumber The block number.
    function getBlockNumber() external view returns (uint256 blockNumber) {
        blockNumber = block.number;
    }

    /// @notice The current block timestamp.
    /// @return timestamp The timestamp.
    function getCurrentBlockTimestamp() external view returns (uint256 timestamp) {
        timestamp = block.timestamp;
    }

    /// @notice The chain id.
    /// @return chainid The chain id.
    function getChainId() external view returns (uint256 chainid) {
        chainid = block.chainid;
    }

    /// @notice The ether balance of `addr`.
    /// @param addr The account.
    /// @return balance Its balance in wei.
    function getEthBalance(address addr) external view returns (uint256 balance) {
        balance = addr.balance;
    }
}
