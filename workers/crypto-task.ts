// piscina entry of CryptoPool (src/runtime/crypto/crypto-pool.ts): piscina
// loads its tasks from a file path and calls the default export. The work
// itself lives in src/runtime/crypto/crypto-batch.ts.
export { cryptoTask as default } from '../src/runtime/crypto/crypto-batch.ts';
