/**
 * OS errors in the words of strerror(3), as virsh and libvirt print them.
 * (Node-only helpers live in common/node/, apart from the runtime-neutral common/.)
 * @module
 */
import { getSystemErrorMap } from 'node:util';

/** "No such file or directory" for ENOENT, and so on; the error's own message otherwise. */
export function describeErrno(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const text = typeof e.errno === 'number' ? getSystemErrorMap().get(e.errno)?.[1] : undefined;
  if (text === undefined) return err instanceof Error ? err.message : String(err);
  return text.charAt(0).toUpperCase() + text.slice(1);
}
