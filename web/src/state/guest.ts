/**
 * One guest's page data: domain.info, the summary of its XML, the serial console tail.
 * Refreshed when the host reports an event for this guest.
 * @module
 */
import { signal, type Signal } from '@preact/signals';
import { summarizeDomainXml, type DomainXmlSummary } from '../domain-xml.js';
import { connectionTo } from '../rpc/connections.js';
import { errorMessage } from '../rpc/session.js';
import type { DomainInfo } from '../rpc/types.js';
import { watchHost } from './hosts.js';

export interface GuestData {
  info: Signal<DomainInfo | undefined>;
  xml: Signal<DomainXmlSummary | undefined>;
  consoleText: Signal<string | undefined>;
  /** Why the guest could not be read (e.g. it has moved away). */
  error: Signal<string | undefined>;
  consoleError: Signal<string | undefined>;
  refresh(): void;
  refreshConsole(): void;
}

const cache = new Map<string, GuestData>();

function parseXml(text: string): DomainXmlSummary {
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  return summarizeDomainXml(doc.documentElement);
}

/** The data of guest `name` on `hostId`, loaded on first use and kept fresh by events. */
export function guestData(hostId: string, name: string): GuestData {
  const key = `${hostId}\u0000${name}`;
  const existing = cache.get(key);
  if (existing !== undefined) return existing;
  const conn = connectionTo(hostId);
  const data: GuestData = {
    info: signal(undefined),
    xml: signal(undefined),
    consoleText: signal(undefined),
    error: signal(undefined),
    consoleError: signal(undefined),
    refresh() {
      void (async () => {
        try {
          const info = await conn.call('domain.info', { domain: name });
          const { xml } = await conn.call('domain.getXml', { domain: name });
          data.info.value = info;
          data.xml.value = parseXml(xml);
          data.error.value = undefined;
        } catch (err) {
          data.info.value = undefined;
          data.xml.value = undefined;
          data.error.value = errorMessage(err);
        }
      })();
    },
    refreshConsole() {
      conn.call('domain.consoleLog', { domain: name, maxBytes: 16384 }).then(
        ({ text }) => {
          data.consoleText.value = text;
          data.consoleError.value = undefined;
        },
        (err: unknown) => (data.consoleError.value = errorMessage(err)),
      );
    },
  };
  cache.set(key, data);
  watchHost(
    hostId,
    () => {
      data.refresh();
      data.refreshConsole();
    },
    (event) => {
      if (event.name === name) data.refresh();
    },
  );
  conn.call('host.info', {}).catch((err: unknown) => (data.error.value = errorMessage(err)));
  return data;
}
