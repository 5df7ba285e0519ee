export { randomNonce, signTransferAuthorization, type TransferAuthorization } from "../../sdk/eip3009.ts";
