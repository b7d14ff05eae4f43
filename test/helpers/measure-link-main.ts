/**
 * Run inside a testbed host (its network namespace): measures the link to the destination
 * ferryd `URI` as the source of a migration would (src/preflight/link.ts) and prints the
 * LinkMeasurement as one JSON line. Usage: measure-link-main.ts URI DEST_HOST SECONDS
 */
import { connectPeer } from '../../src/migration/peer.js';
import { measureLink } from '../../src/preflight/link.js';

const [uri = '', destHost = '', seconds = '3'] = process.argv.slice(2);
const peer = await connectPeer(uri);
try {
  const m = await measureLink(peer, destHost, { seconds: Number(seconds) });
  console.log(JSON.stringify(m));
} finally {
  peer.close();
}
