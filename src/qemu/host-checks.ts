/**
 * Checks of what this host can run: the QEMU binary and its version, and /dev/kvm.
 * @module
 */
import { execFile } from 'node:child_process';
import { constants, accessSync, statSync } from 'node:fs';
import { FerryError } from '../common/errors.js';
import { describeErrno } from '../common/node/errno.js';

/** The version QEMU reports ('7.2.22'), or a clear error when the binary cannot run. */
export function probeQemuVersion(binary: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['--version'], { timeout: 10_000 }, (err, stdout) => {
      if (err !== null) {
        const why = describeErrno(err);
        reject(
          new FerryError('SYSTEM_ERROR', `Cannot find QEMU binary '${binary}': ${why}`, {
            cause: err,
          }),
        );
        return;
      }
      const match = /version (\d+\.\d+\.\d+)/.exec(stdout);
      if (match?.[1] === undefined) {
        reject(
          new FerryError('SYSTEM_ERROR', `Cannot parse the version of QEMU binary '${binary}'`),
        );
        return;
      }
      resolve(match[1]);
    });
  });
}

/** Throws unless `path` is a KVM device this process can open read-write. */
export function checkKvmDevice(path: string): void {
  let isChar: boolean;
  try {
    isChar = statSync(path).isCharacterDevice();
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (err) {
    const why = describeErrno(err);
    throw new FerryError(
      'NO_SUPPORT',
      `KVM is not usable: cannot open '${path}': ${why}; use <domain type='qemu'> for emulation`,
      { cause: err },
    );
  }
  if (!isChar) {
    throw new FerryError(
      'NO_SUPPORT',
      `KVM is not usable: '${path}' is not a character device; use <domain type='qemu'> for emulation`,
    );
  }
}
