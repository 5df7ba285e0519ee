// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ICapabilityRegistry} from "./interfaces/ICapabilityRegistry.sol";
import {ISettlementRegistry} from "./interfaces/ISettlementRegistry.sol";

/// @dev The slice of Settlement the registry reads once, when it is wired.
interface ISettlementToken {
    /// @notice The token Settlement holds.
    function usdc() external view returns (address);
}

/// @title Glassbox capability registry
/// @notice Scopes, packages, immutable versions (hashes, pricing, splits, manifest), fork links and executors.
/// @dev Fork cycles are impossible by construction: a fork is always a *new* package whose parent version must
/// already exist, and a package's parent link never changes, so the fork graph is ordered by creation time.
/// The depth bound (MAX_FORK_DEPTH) and MAX_SPLITS bound the work Settlement does per royalty (L-3).
contract CapabilityRegistry is ICapabilityRegistry, ISettlementRegistry {
    /// @notice Deepest allowed fork chain: an original package has depth 0.
    uint8 public constant MAX_FORK_DEPTH = 8;
    uint16 internal constant BPS = 10_000;
    /// @notice Most recipients a version may split over (L-3: bounds a fork chain's credits to 9 levels x 8).
    uint256 public constant MAX_SPLITS = 8;
    /// @notice The x402 batch-settlement channel contract (same address on every chain): it cannot claim credits.
    address public constant X402_CHANNEL = 0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003;
    /// @notice The x402 ERC-3009 deposit collector (same address on every chain): it cannot claim credits.
    address public constant X402_DEPOSIT_COLLECTOR = 0x4020806089470a89826cB9fB1f4059150b550004;
    uint256 internal constant MAX_PART_LENGTH = 64;
    uint256 internal constant MAX_VERSION_LENGTH = 64;
    uint256 internal constant MAX_ENDPOINT_LENGTH = 512;

    struct PackageRecord {
        address owner; // slot 0: owner | minForkShareBps | upstreamShareBps | forkDepth
        uint16 minForkShareBps;
        uint16 upstreamShareBps;
        uint8 forkDepth;
        bytes32 parentVersionId; // slot 1
        string name;
    }

    /// @dev Slot 1 packs everything a settlement reads; the fork link is copied from the package at publish
    /// time (it is immutable) so a settlement never has to read the package record.
    struct VersionRecord {
        bytes32 packageId; // slot 0
        uint96 price; // slot 1: 96 + 64 + 48 + 8 + 8 + 16 + 8 = 248 bits
        uint64 fuelPricePerMillion;
        uint48 publishedAt; // non-zero for every published version: the existence marker
        AccessMode accessMode;
        bool yanked;
        uint16 upstreamShareBps;
        uint8 splitCount;
        bytes32 parentVersionId; // slot 2
        Hashes hashes;
        string version;
    }

    struct ExecutorRecord {
        bool active;
        bool retired;
        uint256 feePerCall;
        string endpoint;
    }

    mapping(bytes32 scopeId => address owner) internal _scopeOwners;
    mapping(bytes32 packageId => PackageRecord) internal _packages;
    mapping(bytes32 packageId => bytes32[] versionIds) internal _versionIds;
    mapping(bytes32 versionId => VersionRecord) internal _versions;
    mapping(bytes32 versionId => mapping(uint256 index => Split)) internal _splits;
    mapping(address operator => ExecutorRecord) internal _executors;
    mapping(bytes32 versionId => uint256 price) internal _licencePrices;

    /// @notice Who may call setSettlement (once).
    address public immutable deployer;
    /// @inheritdoc ICapabilityRegistry
    address public settlement;
    /// @notice The token Settlement holds (zero until setSettlement); refused as a split recipient.
    address public token;

    constructor() {
        deployer = msg.sender;
    }

    /// @inheritdoc ICapabilityRegistry
    function setSettlement(address settlement_) external {
        if (msg.sender != deployer) revert NotDeployer(msg.sender);
        if (settlement != address(0)) revert SettlementAlreadySet(settlement);
        if (settlement_ == address(0)) revert ZeroAddress();
        address token_ = ISettlementToken(settlement_).usdc();
        if (token_ == address(0)) revert ZeroAddress();
        settlement = settlement_;
        token = token_;
        emit SettlementSet(settlement_, token_);
    }

    // ---------------------------------------------------------------- scopes

    /// @inheritdoc ICapabilityRegistry
    /// @dev Idempotent for the current owner (no event when nothing changes).
    function claimScope(string calldata scope) external returns (bytes32 scopeId) {
        if (!_isValidPart(bytes(scope))) revert InvalidName(scope);
        scopeId = keccak256(bytes(scope));
        _claimOrCheckScope(scopeId, scope);
    }

    /// @inheritdoc ICapabilityRegistry
    function transferScope(string calldata scope, address newOwner) external {
        bytes32 scopeId = keccak256(bytes(scope));
        if (_scopeOwners[scopeId] != msg.sender) revert NotScopeOwner(scopeId, msg.sender);
        if (newOwner == address(0)) revert ZeroAddress();
        _scopeOwners[scopeId] = newOwner;
        emit ScopeTransferred(scopeId, msg.sender, newOwner);
    }

    // ---------------------------------------------------------------- packages

    /// @inheritdoc ICapabilityRegistry
    function registerPackage(string calldata name, uint16 minForkShareBps) external returns (bytes32 packageId) {
        if (minForkShareBps > BPS) revert InvalidBps(minForkShareBps);
        packageId = _newPackage(name);
        PackageRecord storage p = _packages[packageId];
        p.owner = msg.sender;
        p.minForkShareBps = minForkShareBps;
        p.name = name;
        emit PackageRegistered(packageId, name, msg.sender, bytes32(0), 0, minForkShareBps);
    }

    /// @inheritdoc ICapabilityRegistry
    function registerFork(string calldata name, bytes32 parentVersionId, uint16 upstreamShareBps, uint16 minForkShareBps)
        external
        returns (bytes32 packageId)
    {
        if (upstreamShareBps > BPS) revert InvalidBps(upstreamShareBps);
        if (minForkShareBps > BPS) revert InvalidBps(minForkShareBps);
        VersionRecord storage parent = _versions[parentVersionId];
        if (parent.publishedAt == 0) revert UnknownVersion(parentVersionId);
        if (parent.yanked) revert ParentYanked(parentVersionId);
        PackageRecord storage parentPackage = _packages[parent.packageId];
        if (upstreamShareBps < parentPackage.minForkShareBps) {
            revert UpstreamShareTooLow(upstreamShareBps, parentPackage.minForkShareBps);
        }
        uint8 depth = parentPackage.forkDepth + 1;
        if (depth > MAX_FORK_DEPTH) revert ForkTooDeep(depth, MAX_FORK_DEPTH);

        packageId = _newPackage(name);
        PackageRecord storage p = _packages[packageId];
        p.owner = msg.sender;
        p.minForkShareBps = minForkShareBps;
        p.upstreamShareBps = upstreamShareBps;
        p.forkDepth = depth;
        p.parentVersionId = parentVersionId;
        p.name = name;
        emit PackageRegistered(packageId, name, msg.sender, parentVersionId, upstreamShareBps, minForkShareBps);
    }

    /// @inheritdoc ICapabilityRegistry
    function transferPackage(bytes32 packageId, address newOwner) external {
        PackageRecord storage p = _ownedPackage(packageId);
        if (newOwner == address(0)) revert ZeroAddress();
        p.owner = newOwner;
        emit PackageTransferred(packageId, msg.sender, newOwner);
    }

    /// @inheritdoc ICapabilityRegistry
    function setMinForkShare(bytes32 packageId, uint16 minForkShareBps) external {
        PackageRecord storage p = _ownedPackage(packageId);
        if (minForkShareBps > BPS) revert InvalidBps(minForkShareBps);
        p.minForkShareBps = minForkShareBps;
        emit MinForkShareUpdated(packageId, minForkShareBps);
    }

    // ---------------------------------------------------------------- versions

    /// @inheritdoc ICapabilityRegistry
    /// @dev price must fit uint96 and fuelPricePerMillion uint64 (packed storage); both are far above any real price.
    function publishVersion(bytes32 packageId, string calldata version, VersionInput calldata input)
        external
        returns (bytes32 versionId)
    {
        PackageRecord storage p = _ownedPackage(packageId);
        if (settlement == address(0)) revert SettlementNotSet();
        uint256 versionLength = bytes(version).length;
        if (versionLength == 0 || versionLength > MAX_VERSION_LENGTH) revert InvalidVersion(version);
        versionId = keccak256(abi.encode(packageId, version));
        VersionRecord storage v = _versions[versionId];
        if (v.publishedAt != 0) revert VersionExists(versionId);
        bytes32 manifestHash = sha256(bytes(input.manifest));
        if (manifestHash != input.hashes.manifestHash) revert ManifestHashMismatch(input.hashes.manifestHash, manifestHash);
        _checkPricing(input.accessMode, input.price, input.fuelPricePerMillion);
        _storeSplits(versionId, input.splits);

        v.packageId = packageId;
        v.price = uint96(input.price);
        v.fuelPricePerMillion = uint64(input.fuelPricePerMillion);
        v.publishedAt = uint48(block.timestamp);
        v.accessMode = input.accessMode;
        v.upstreamShareBps = p.upstreamShareBps;
        v.splitCount = uint8(input.splits.length);
        if (p.upstreamShareBps != 0) v.parentVersionId = p.parentVersionId;
        v.hashes = input.hashes;
        v.version = version;
        _versionIds[packageId].push(versionId);

        _emitVersionPublished(versionId, packageId, version, input);
    }

    /// @inheritdoc ICapabilityRegistry
    function yankVersion(bytes32 versionId) external {
        VersionRecord storage v = _versions[versionId];
        if (v.publishedAt == 0) revert UnknownVersion(versionId);
        bytes32 packageId = v.packageId;
        if (_packages[packageId].owner != msg.sender) revert NotPackageOwner(packageId, msg.sender);
        if (v.yanked) revert AlreadyYanked(versionId);
        v.yanked = true;
        emit VersionYanked(versionId, packageId);
    }

    /// @inheritdoc ICapabilityRegistry
    /// @dev Mutable, unlike call pricing: a buyer names the most it pays (Settlement.buyLicence maxPrice), so an
    /// owner repricing in front of a purchase cannot take more than the buyer agreed to.
    function setLicencePrice(bytes32 versionId, uint256 price) external {
        VersionRecord storage v = _versions[versionId];
        if (v.publishedAt == 0) revert UnknownVersion(versionId);
        bytes32 packageId = v.packageId;
        if (_packages[packageId].owner != msg.sender) revert NotPackageOwner(packageId, msg.sender);
        if (price != 0 && v.yanked) revert VersionIsYanked(versionId);
        if (price > type(uint96).max) revert InvalidPricing("licence price exceeds uint96");
        _licencePrices[versionId] = price;
        emit LicenceOffered(versionId, packageId, price);
    }

    /// @inheritdoc ICapabilityRegistry
    function licencePrice(bytes32 versionId) external view returns (uint256) {
        return _licencePrices[versionId];
    }

    // ---------------------------------------------------------------- executors

    /// @inheritdoc ICapabilityRegistry
    /// @dev A retired operator is refused for good (L-1): reviving a key would let it serve again under receipts
    /// and a fee it once gave up, and the fee is immutable for the life of a registration.
    function registerExecutor(string calldata endpoint, uint256 feePerCall) external {
        _checkEndpoint(endpoint);
        ExecutorRecord storage e = _executors[msg.sender];
        if (e.retired) revert ExecutorRetired(msg.sender);
        if (e.active) revert ExecutorAlreadyRegistered(msg.sender);
        e.active = true;
        e.feePerCall = feePerCall;
        e.endpoint = endpoint;
        emit ExecutorRegistered(msg.sender, endpoint, feePerCall);
    }

    /// @inheritdoc ICapabilityRegistry
    function updateExecutor(string calldata endpoint) external {
        _checkEndpoint(endpoint);
        ExecutorRecord storage e = _executors[msg.sender];
        if (!e.active) revert UnknownExecutor(msg.sender);
        e.endpoint = endpoint;
        emit ExecutorUpdated(msg.sender, endpoint, e.feePerCall);
    }

    /// @inheritdoc ICapabilityRegistry
    function deregisterExecutor() external {
        ExecutorRecord storage e = _executors[msg.sender];
        if (!e.active) revert UnknownExecutor(msg.sender);
        e.active = false;
        e.retired = true;
        emit ExecutorDeregistered(msg.sender);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ICapabilityRegistry
    function scopeOwner(string calldata scope) external view returns (address) {
        return _scopeOwners[keccak256(bytes(scope))];
    }

    /// @inheritdoc ICapabilityRegistry
    function getPackage(bytes32 packageId) external view returns (PackageInfo memory info) {
        PackageRecord storage p = _packages[packageId];
        if (p.owner == address(0)) revert UnknownPackage(packageId);
        info = PackageInfo({
            owner: p.owner,
            minForkShareBps: p.minForkShareBps,
            parentVersionId: p.parentVersionId,
            upstreamShareBps: p.upstreamShareBps,
            forkDepth: p.forkDepth,
            name: p.name
        });
    }

    /// @inheritdoc ICapabilityRegistry
    function getVersion(bytes32 versionId) external view returns (VersionInfo memory info) {
        VersionRecord storage v = _versions[versionId];
        if (v.publishedAt == 0) revert UnknownVersion(versionId);
        info = VersionInfo({
            packageId: v.packageId,
            accessMode: v.accessMode,
            yanked: v.yanked,
            publishedAt: v.publishedAt,
            price: v.price,
            fuelPricePerMillion: v.fuelPricePerMillion,
            hashes: v.hashes,
            version: v.version
        });
    }

    /// @inheritdoc ICapabilityRegistry
    function getSplits(bytes32 versionId) external view returns (Split[] memory splits) {
        VersionRecord storage v = _versions[versionId];
        if (v.publishedAt == 0) revert UnknownVersion(versionId);
        splits = _loadSplits(versionId, v.splitCount);
    }

    /// @inheritdoc ICapabilityRegistry
    function getVersionIds(bytes32 packageId) external view returns (bytes32[] memory) {
        if (_packages[packageId].owner == address(0)) revert UnknownPackage(packageId);
        return _versionIds[packageId];
    }

    /// @inheritdoc ICapabilityRegistry
    function getExecutor(address operator) external view returns (ExecutorInfo memory) {
        ExecutorRecord storage e = _executors[operator];
        return ExecutorInfo({active: e.active, retired: e.retired, feePerCall: e.feePerCall, endpoint: e.endpoint});
    }

    /// @inheritdoc ICapabilityRegistry
    function isActiveExecutor(address operator) external view returns (bool) {
        return _executors[operator].active;
    }

    /// @inheritdoc ICapabilityRegistry
    /// @dev Reverts InvalidName for a name the registry would refuse.
    function packageIdOf(string calldata name) external pure returns (bytes32) {
        if (!_isValidName(bytes(name))) revert InvalidName(name);
        return keccak256(bytes(name));
    }

    /// @inheritdoc ICapabilityRegistry
    function versionIdOf(bytes32 packageId, string calldata version) external pure returns (bytes32) {
        return keccak256(abi.encode(packageId, version));
    }

    /// @inheritdoc ISettlementRegistry
    function settlementLevel(bytes32 versionId) external view returns (Level memory level) {
        VersionRecord storage v = _versions[versionId];
        if (v.publishedAt != 0) {
            level.exists = true;
            level.accessMode = v.accessMode;
            level.upstreamShareBps = v.upstreamShareBps;
            level.price = v.price;
            level.fuelPricePerMillion = v.fuelPricePerMillion;
            if (v.upstreamShareBps != 0) level.parentVersionId = v.parentVersionId;
            level.splits = _loadSplits(versionId, v.splitCount);
        }
    }

    /// @inheritdoc ISettlementRegistry
    function licenceTerms(bytes32 versionId) external view returns (bool exists, bool yanked, uint256 price) {
        VersionRecord storage v = _versions[versionId];
        return (v.publishedAt != 0, v.yanked, _licencePrices[versionId]);
    }

    /// @inheritdoc ISettlementRegistry
    function executorFee(address operator) external view returns (bool registered, uint256 feePerCall) {
        ExecutorRecord storage e = _executors[operator];
        return (e.active || e.retired, e.feePerCall);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Validates `scope/name`, claims or checks the scope, and refuses a taken name.
    function _newPackage(string calldata name) internal returns (bytes32 packageId) {
        bytes calldata raw = bytes(name);
        if (!_isValidName(raw)) revert InvalidName(name);
        uint256 slash = _slashIndex(raw);
        string calldata scope = name[:slash];
        _claimOrCheckScope(keccak256(bytes(scope)), scope);
        packageId = keccak256(raw);
        if (_packages[packageId].owner != address(0)) revert NameTaken(name);
    }

    /// @dev Claims an unclaimed scope for msg.sender (ScopeClaimed), or requires msg.sender to own it.
    function _claimOrCheckScope(bytes32 scopeId, string calldata scope) internal {
        address owner = _scopeOwners[scopeId];
        if (owner == address(0)) {
            _scopeOwners[scopeId] = msg.sender;
            emit ScopeClaimed(scopeId, scope, msg.sender);
        } else if (owner != msg.sender) {
            revert ScopeOwnedByAnother(scope, owner);
        }
    }

    /// @dev The package record, requiring it to exist and msg.sender to own it.
    function _ownedPackage(bytes32 packageId) internal view returns (PackageRecord storage p) {
        p = _packages[packageId];
        if (p.owner == address(0)) revert UnknownPackage(packageId);
        if (p.owner != msg.sender) revert NotPackageOwner(packageId, msg.sender);
    }

    /// @dev Separate frame: the event has more fields than the stack of publishVersion can hold.
    function _emitVersionPublished(
        bytes32 versionId,
        bytes32 packageId,
        string calldata version,
        VersionInput calldata input
    ) internal {
        emit VersionPublished(
            versionId,
            packageId,
            version,
            input.hashes,
            input.accessMode,
            input.price,
            input.fuelPricePerMillion,
            input.splits,
            input.manifest
        );
    }

    /// @dev Free needs price 0 and fuel price 0; PerCall fuel price 0; both fit their packed storage widths.
    function _checkPricing(AccessMode mode, uint256 price, uint256 fuelPricePerMillion) internal pure {
        if (mode == AccessMode.Free) {
            if (price != 0 || fuelPricePerMillion != 0) revert InvalidPricing("free access needs price 0 and fuel price 0");
        } else if (mode == AccessMode.PerCall) {
            if (fuelPricePerMillion != 0) revert InvalidPricing("per-call access needs fuel price 0");
        }
        if (price > type(uint96).max) revert InvalidPricing("price exceeds uint96");
        if (fuelPricePerMillion > type(uint64).max) revert InvalidPricing("fuel price exceeds uint64");
    }

    /// @dev 1..MAX_SPLITS distinct claimable recipients, non-zero bps summing to 10000, stored by index.
    function _storeSplits(bytes32 versionId, Split[] calldata splits) internal {
        uint256 count = splits.length;
        if (count == 0 || count > MAX_SPLITS) revert InvalidSplits("need 1 to 8 recipients");
        uint256 total;
        mapping(uint256 => Split) storage stored = _splits[versionId];
        for (uint256 i; i < count; ++i) {
            Split calldata s = splits[i];
            _checkRecipient(s.recipient);
            if (s.bps == 0) revert InvalidSplits("zero bps");
            for (uint256 j; j < i; ++j) {
                if (splits[j].recipient == s.recipient) revert InvalidSplits("duplicate recipient");
            }
            total += s.bps;
            stored[i] = s;
        }
        if (total != BPS) revert InvalidSplits("bps must sum to 10000");
    }

    /// @dev L-2: a recipient that can never call claim() would lock its credits forever.
    function _checkRecipient(address recipient) internal view {
        if (
            recipient == address(0) || recipient == address(this) || recipient == settlement || recipient == token
                || recipient == X402_CHANNEL || recipient == X402_DEPOSIT_COLLECTOR
        ) revert UnclaimableRecipient(recipient);
    }

    /// @dev The first `count` stored splits of a version.
    function _loadSplits(bytes32 versionId, uint256 count) internal view returns (Split[] memory splits) {
        splits = new Split[](count);
        mapping(uint256 => Split) storage stored = _splits[versionId];
        for (uint256 i; i < count; ++i) {
            splits[i] = stored[i];
        }
    }

    /// @dev 1..MAX_ENDPOINT_LENGTH bytes.
    function _checkEndpoint(string calldata endpoint) internal pure {
        uint256 length = bytes(endpoint).length;
        if (length == 0 || length > MAX_ENDPOINT_LENGTH) revert InvalidEndpoint();
    }

    /// @dev `scope/name`: exactly one slash, both parts valid.
    function _isValidName(bytes calldata raw) internal pure returns (bool) {
        uint256 slash = _slashIndex(raw);
        if (slash == type(uint256).max) return false;
        return _isValidPart(raw[:slash]) && _isValidPart(raw[slash + 1:]);
    }

    /// @dev Index of the first '/', or type(uint256).max when there is none.
    function _slashIndex(bytes calldata raw) internal pure returns (uint256) {
        for (uint256 i; i < raw.length; ++i) {
            if (raw[i] == "/") return i;
        }
        return type(uint256).max;
    }

    /// @dev 1-64 chars of [a-z0-9-], no leading or trailing dash (so a second slash fails here too).
    function _isValidPart(bytes calldata part) internal pure returns (bool) {
        uint256 length = part.length;
        if (length == 0 || length > MAX_PART_LENGTH) return false;
        if (part[0] == "-" || part[length - 1] == "-") return false;
        for (uint256 i; i < length; ++i) {
            bytes1 c = part[i];
            bool ok = (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-";
            if (!ok) return false;
        }
        return true;
    }
}
