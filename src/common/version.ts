/** Ferry's own version, reported by `ferry version` and the RPC. */
export const FERRY_VERSION = '0.1.0';
