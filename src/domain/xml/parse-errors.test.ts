import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryError, XmlSyntaxError } from '../../common/errors.js';
import type { ErrorCode } from '../../common/errors.js';
import { parseDomainXml } from './index.js';
import type { ParseOptions } from './index.js';

const UUID = '3e3fce45-4f53-4fa7-bb32-11f34168b82b';

function macs(): () => string {
  let n = 0;
  return () => `52:54:00:00:00:${(++n).toString(16).padStart(2, '0')}`;
}

function opts(): ParseOptions {
  return { generateUuid: () => UUID, generateMac: macs() };
}

/** A domain with `inner` inside <domain> after the name and memory. */
function domain(inner: string, attrs = "type='qemu'"): string {
  return `<domain ${attrs}>\n  <name>t</name>\n  <memory>1024</memory>\n${inner}\n</domain>\n`;
}

function parse(xml: string): ReturnType<typeof parseDomainXml> {
  return parseDomainXml(xml, opts());
}

function rejects(xml: string, code: ErrorCode, ...words: string[]): FerryError {
  let caught: unknown;
  try {
    parse(xml);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof FerryError, `expected a FerryError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const word of words) assert.ok(caught.message.includes(word), caught.message);
  assert.ok(!caught.message.includes('\n'), 'messages are one line');
  return caught;
}

function syntaxError(xml: string, line: number, column: number, ...words: string[]): void {
  const err = rejects(xml, 'XML_ERROR', ...words);
  assert.ok(err instanceof XmlSyntaxError, err.message);
  assert.deepEqual([err.line, err.column], [line, column], err.message);
  assert.ok(err.message.endsWith(`(line ${line}, column ${column})`), err.message);
}

test('parseDomainXml() rejects malformed memory sizes naming the element', () => {
  const mem = (body: string): string => `<domain type='qemu'><name>u</name>${body}</domain>`;
  rejects(mem('<memory>12abc</memory>'), 'XML_ERROR', '<memory>', '12abc');
  rejects(mem('<memory>-5</memory>'), 'XML_ERROR', '<memory>', '-5');
  rejects(mem("<memory unit='parsecs'>5</memory>"), 'XML_ERROR', 'unit', 'parsecs', '<memory>');
  rejects(mem("<memory unit='EiB'>99999</memory>"), 'XML_ERROR', 'too large', '<memory>');
  rejects(domain('<currentMemory>lots</currentMemory>'), 'XML_ERROR', '<currentMemory>', 'lots');
});

test('parseDomainXml() rejects DOCTYPE and ENTITY declarations', () => {
  const doctype = "<?xml version='1.0'?>\n<!DOCTYPE domain>\n<domain type='qemu'/>";
  syntaxError(doctype, 2, 1, 'XML DOCTYPE declarations are not allowed');
  const bomb = "<!DOCTYPE d [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;'>]><domain>&b;</domain>";
  rejects(bomb, 'XML_ERROR', 'DOCTYPE declarations are not allowed');
  rejects("<domain type='qemu'><!ENTITY x 'y'></domain>", 'XML_ERROR', 'not allowed');
});

test('parseDomainXml() reports malformed XML with line and column', () => {
  syntaxError(
    '<domain>\n  <name>x</name>\n  <foo></bar>\n</domain>',
    3,
    8,
    'mismatched tag',
    '</bar>',
    '</foo>',
  );
  syntaxError(
    '<domain>\n  <devices>\n</domain>\n',
    3,
    1,
    'mismatched tag',
    '</domain>',
    '</devices>',
  );
  syntaxError(
    '<domain>\n  <name>x</name>\n',
    2,
    17,
    'premature end of data',
    'unclosed',
    '<domain>',
  );
  syntaxError('   garbage', 1, 4, "start tag expected, '<' not found");
  syntaxError('', 1, 1, 'document is empty');
  syntaxError(' \n ', 1, 1, 'document is empty');
  syntaxError("<domain type='qemu'/>\ntrailing", 2, 1, 'extra content at the end of the document');
  syntaxError("<domain type='qemu'/>\n<domain/>", 2, 1, 'extra content');
  syntaxError("junk\n<domain type='qemu'/>", 1, 1, 'text outside the root element');
  syntaxError('<domain>\n  <name>a & b</name>\n</domain>', 2, 11, "unescaped '&'");
  syntaxError('<domain>\n  <x a=1/>\n</domain>', 2, 3, 'not quoted');
  syntaxError("<domain a='1' a='2'/>", 1, 1, "attribute 'a' redefined");
  syntaxError('<domain>\n <q:x/></domain>', 2, 2, "namespace prefix 'q'", 'not declared');
  syntaxError('<domain>\n &nbsp;</domain>', 2, 2, 'undefined entity &nbsp;');
  syntaxError('<domain>\r\n<a>\r\n</b></domain>', 3, 1, 'mismatched tag');
});

test('parseDomainXml() requires a <domain> root with a supported type', () => {
  rejects(
    '<network><name>n</name></network>',
    'XML_ERROR',
    'Expected root element <domain>, found <network>',
  );
  rejects('<domain><name>t</name><memory>1</memory></domain>', 'XML_ERROR', 'Missing domain type');
  rejects(
    domain('', "type='xen'"),
    'CONFIG_UNSUPPORTED',
    "Domain type 'xen' is not supported (expected qemu or kvm)",
  );
  rejects(domain('', "type='banana'"), 'XML_ERROR', "Invalid domain type 'banana'");
  rejects("<domain type='qemu'><memory>1</memory></domain>", 'XML_ERROR', 'Missing domain name');
  rejects("<domain type='qemu'><name>t</name></domain>", 'XML_ERROR', 'Missing domain memory');
});

test('parseDomainXml() rejects libvirt features Ferry cannot run as CONFIG_UNSUPPORTED', () => {
  const dev = (xml: string): string => domain(`<devices>${xml}</devices>`);
  const cases: [string, string[]][] = [
    [dev("<disk type='nvme'><target dev='vda'/></disk>"), ['Disk type', 'nvme']],
    [dev("<disk device='floppy'><target dev='fda' bus='fdc'/></disk>"), ['Disk device', 'floppy']],
    [
      dev("<disk><driver type='vmdk'/><source file='/d'/><target dev='vda'/></disk>"),
      ['Disk format', 'vmdk'],
    ],
    [dev("<disk><source file='/d'/><target dev='vda' bus='usb'/></disk>"), ['Disk bus', 'usb']],
    [dev("<interface type='direct'/>"), ['Interface type', 'direct']],
    [dev("<graphics type='spice'/>"), ['Graphics type', 'spice']],
    [dev("<serial type='tcp'/>"), ['Serial type', 'tcp']],
    [dev("<console type='stdio'/>"), ['Console type', 'stdio']],
    [domain('<os><type>linux</type></os>'), ['OS type', 'linux']],
  ];
  for (const [xml, words] of cases) rejects(xml, 'CONFIG_UNSUPPORTED', ...words, 'not supported');
});

test('parseDomainXml() rejects invalid content as XML_ERROR naming the element', () => {
  const dev = (xml: string): string => domain(`<devices>${xml}</devices>`);
  const cases: [string, string[]][] = [
    [domain('<name>again</name>'), ['Duplicate <name>']],
    [domain('<vcpu>two</vcpu>'), ['<vcpu>', 'two']],
    [domain('<title><b>x</b></title>'), ['<b>', '<title>']],
    [domain('<on_crash>explode</on_crash>'), ['<on_crash>', 'explode']],
    [domain("<os><boot dev='usb'/></os>"), ['boot device', 'usb']],
    [domain("<cpu mode='host-ish'/>"), ['CPU mode', 'host-ish']],
    [domain("<cpu><topology sockets='0'/></cpu>"), ['sockets', '0']],
    [domain("<cpu><feature policy='maybe' name='x'/></cpu>"), ['policy', 'maybe']],
    [domain("<clock offset='mars'/>"), ['clock offset', 'mars']],
    [dev("<disk><source file='/d'/></disk>"), ['Missing <target> in <disk>']],
    [
      dev("<disk><driver cache='sometimes'/><source file='/d'/><target dev='vda'/></disk>"),
      ['cache', 'sometimes'],
    ],
    [dev("<interface type='network'/>"), ['Missing', 'network', '<interface']],
    [dev('<interface/>'), ['Missing type', '<interface>']],
    [
      dev("<interface type='user'><mac address='zz:zz'/></interface>"),
      ['Invalid MAC address', 'zz:zz'],
    ],
    [dev("<serial type='file'/>"), ['Missing source path', "<serial type='file'>"]],
    [dev("<serial><source append='yes'/></serial>"), ['append', 'yes']],
    [dev("<serial><target port='x'/></serial>"), ['port', 'x']],
    [dev("<graphics type='vnc' autoport='maybe'/>"), ['autoport', 'maybe']],
    [dev('<graphics/>'), ['Missing type', '<graphics>']],
  ];
  for (const [xml, words] of cases) rejects(xml, 'XML_ERROR', ...words);
});

test('parseDomainXml() validates the definition it builds', () => {
  rejects(
    domain("<currentMemory unit='MiB'>4</currentMemory>"),
    'XML_ERROR',
    'Current memory',
    'exceeds',
  );
  rejects(
    "<domain type='qemu'><name>../x</name><memory>1</memory></domain>",
    'XML_ERROR',
    "cannot contain '/'",
  );
});

test('parseDomainXml() refuses panic devices and Ferry metadata it cannot honour', () => {
  const dev = (inner: string): string => domain(`<devices>${inner}</devices>`);
  const watch = (attrs: string): string =>
    `<metadata><ferry:watch xmlns:ferry='urn:ferry:domain:1.0' ${attrs}/></metadata>`;
  rejects(dev("<panic model='hyperv'/>"), 'CONFIG_UNSUPPORTED', 'Panic model', 'hyperv');
  rejects(dev("<panic model='bogus'/>"), 'XML_ERROR', 'panic model', 'bogus');
  rejects(dev("<panic><address type='pci'/></panic>"), 'XML_ERROR', 'address type', 'pci');
  rejects(dev("<panic><address type='isa' iobase='0x10000'/></panic>"), 'XML_ERROR', 'iobase');
  rejects(dev('<panic/><panic/>'), 'XML_ERROR', 'at most one <panic>');
  rejects(domain(watch("pvpanic='maybe'")), 'XML_ERROR', 'pvpanic', 'maybe');
  rejects(domain(watch("pvpanik='off'")), 'XML_ERROR', "Unknown attribute 'pvpanik'");
  rejects(
    domain("<metadata><f:wach xmlns:f='urn:ferry:domain:1.0'/></metadata>"),
    'XML_ERROR',
    '<f:wach>',
  );
  rejects(
    domain(`${watch("pvpanic='off'")}<devices><panic/></devices>`),
    'XML_ERROR',
    "pvpanic='off'",
  );
  rejects(domain('<metadata/><metadata/>'), 'XML_ERROR', 'Duplicate <metadata>');
});
