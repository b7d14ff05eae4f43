/**
 * Public surface of Ferry's RPC core: server, client, transports, framing and protocol types.
 * The API table itself lives in ./methods.ts.
 * @module
 */
export { RpcServer } from './server.js';
export type {
  CallContext,
  Connection,
  ConnectionInfo,
  Handler,
  Handlers,
  RpcServerOptions,
} from './server.js';
export { RpcClient } from './client.js';
export { SOCKET_NAME, connectRpc, connectUri, defaultSocketPath, endpointOf } from './connect.js';
export type { ConnectRpcOptions, RpcEndpoint, TypedRpcClient } from './connect.js';
export { fileCredentials, logIn, noCredentialsError } from './login.js';
export type { CredentialProvider, CredentialRequest, Credentials } from './login.js';
export type { CallOptions, RpcClientOptions, TypedClient } from './client.js';
export { defineMethod, defineMethods, silentLogger } from './spec.js';
export type {
  MethodSpec,
  MethodTable,
  ParamsIn,
  ParamsOut,
  ResultIn,
  ResultOut,
  RpcLogger,
} from './spec.js';
export {
  KEEPALIVE_PING,
  KEEPALIVE_PONG,
  KeepaliveTimeoutError,
  handleKeepalive,
  startKeepalive,
} from './keepalive.js';
export type { KeepaliveOptions } from './keepalive.js';
export { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, FrameError, encodeFrame } from './framing.js';
export type { FrameErrorReason, JsonObject } from './framing.js';
export {
  formatZodError,
  fromErrorObject,
  makeError,
  makeNotification,
  makeRequest,
  makeResult,
  parseMessage,
  toErrorObject,
} from './protocol.js';
export type {
  Envelope,
  ErrorEnvelope,
  IncomingMessage,
  NotificationEnvelope,
  ParseOutcome,
  RequestEnvelope,
  ResultEnvelope,
  RpcErrorData,
  RpcErrorObject,
  RpcId,
} from './protocol.js';
export {
  StreamTransport,
  WebSocketTransport,
  WS_CLOSE,
  connectTcp,
  connectTls,
  connectUnix,
  formatHostPort,
  listenTcp,
  listenTls,
  listenUnix,
} from './transport/index.js';
export type {
  CloseListener,
  ConnectTcpOptions,
  ConnectTlsOptions,
  ConnectUnixOptions,
  ListenTcpOptions,
  ListenTlsOptions,
  ListenUnixOptions,
  LocalEndpoint,
  TcpListener,
  TlsRefusal,
  TlsServerFiles,
  StreamTransportOptions,
  Transport,
  UnixListener,
  WebSocketTransportOptions,
} from './transport/index.js';
