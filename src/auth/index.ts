/**
 * Who may use a ferryd over the network: SCRAM-SHA-256 logins checked against an accounts
 * file of verifiers (server side), and the auth.conf credentials a client logs in with.
 * @module
 */
export {
  DEFAULT_ACCOUNTS_FILE,
  accountsFileProblem,
  addAccount,
  listAccounts,
  readAccounts,
  removeAccount,
  userNameProblem,
  verifyPassword,
} from './accounts.js';
export {
  SYSTEM_AUTH_FILE,
  authFilePath,
  credentialsFor,
  lookupCredentials,
  parseAuthConf,
  readAuthConf,
} from './auth-conf.js';
export type { AuthConf, AuthFileOptions, CredentialSet, PartialCredentials } from './auth-conf.js';
export { AUTH_METHODS, ConnectionLogin } from './login.js';
export type { LoginLogger, LoginOptions } from './login.js';
export {
  DEFAULT_SCRAM_ITERATIONS,
  SCRAM_MECHANISM,
  ScramClient,
  ScramServerExchange,
  checkPassword,
  formatVerifier,
  makeVerifier,
  parseVerifier,
} from './scram.js';
export type { ScramVerifier } from './scram.js';
