/**
 * Distinguished names of client certificates, as libvirtd's `tls_allowed_dn_list` writes and
 * matches them: the subject's attributes in certificate order, comma-separated, special
 * characters backslash-escaped (`C=GB,O=Ferry,CN=host1`), matched against glob patterns where
 * `*` is any run of characters (commas included) and `?` any one character.
 * @module
 */
import type { X509Certificate } from 'node:crypto';

/** The DN of a certificate's subject in libvirt's form. */
export function subjectDn(cert: X509Certificate): string {
  // Node prints one RFC 2253-escaped attribute per line, in certificate order.
  return cert.subject.split('\n').join(',');
}

/** A glob pattern (`*`, `?`) as an anchored regular expression. */
function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** True when `dn` matches one of `patterns` (libvirt's virNetTLSContextCheckCertDNACL). */
export function dnAllowed(dn: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => globToRegExp(p).test(dn));
}
