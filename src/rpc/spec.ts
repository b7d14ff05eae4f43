/**
 * The shape of an API table (method name → params schema, result schema, doc) that both
 * RpcServer and RpcClient are typed against, plus the logger interface they accept.
 * Tables are plain objects built from zod schemas, so they can live in code that imports
 * nothing but zod (src/rpc/methods.ts).
 * @module
 */
import type { z } from 'zod';

/** One method: its params and result schemas (JSON-shaped: no transforms to non-JSON values). */
export interface MethodSpec<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly params: P;
  readonly result: R;
  readonly doc?: string;
}

/** A table of methods by wire name, e.g. `{ 'domain.start': { params, result, doc } }`. */
export type MethodTable = Record<string, MethodSpec>;

/** What a caller passes for method K (the params schema's input). */
export type ParamsIn<M extends MethodTable, K extends keyof M> = z.input<M[K]['params']>;
/** What a handler receives for method K (the params schema's output). */
export type ParamsOut<M extends MethodTable, K extends keyof M> = z.output<M[K]['params']>;
/** What a handler must return for method K (the result schema's input). */
export type ResultIn<M extends MethodTable, K extends keyof M> = z.input<M[K]['result']>;
/** What a caller gets back for method K (the result schema's output). */
export type ResultOut<M extends MethodTable, K extends keyof M> = z.output<M[K]['result']>;

/** Identity helper that keeps the exact schema types of one method. */
export function defineMethod<P extends z.ZodType, R extends z.ZodType>(
  spec: MethodSpec<P, R>,
): MethodSpec<P, R> {
  return spec;
}

/** Identity helper that checks a whole table against {@link MethodTable} without widening it. */
export function defineMethods<const T extends MethodTable>(table: T): T {
  return table;
}

/** The subset of pino's Logger that the RPC layer uses (a pino logger fits as is). */
export interface RpcLogger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** A logger that discards everything (the default). */
export const silentLogger: RpcLogger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
