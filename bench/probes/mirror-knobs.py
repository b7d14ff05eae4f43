#!/usr/bin/env python3
"""blockdev-mirror knobs against qemu-img convert, two qemu-storage-daemons on loopback (no
guest, no TCG, no Ferry): the evidence behind bench/README.md's "Mirror knobs tried".
Usage: ROUNDS=4 python3 bench/probes/mirror-knobs.py IMAGE.raw   (IMAGE: e.g. the storage
benchmark's /tmp/ferry-bench-storage-2g-1m-alternating.raw; a 2 GiB target is made in a
temporary directory next to it and removed at the end)."""
import atexit, json, os, shutil, socket, subprocess, sys, tempfile, time
SRC = sys.argv[1]; PORT = 10950
D = tempfile.mkdtemp(prefix='ferry-mirror-knobs-', dir=os.path.dirname(os.path.abspath(SRC)))
atexit.register(shutil.rmtree, D, True)
def qmp(path):
    s = socket.socket(socket.AF_UNIX); 
    for _ in range(200):
        try: s.connect(path); break
        except OSError: time.sleep(0.02)
    f = s.makefile('rw')
    json.loads(f.readline())
    def cmd(name, args=None):
        f.write(json.dumps({'execute': name, **({'arguments': args} if args else {})}) + '\n'); f.flush()
        while True:
            m = json.loads(f.readline())
            if 'return' in m: return m['return']
            if 'error' in m: raise RuntimeError(m['error'])
    def event(name):
        while True:
            m = json.loads(f.readline())
            if m.get('event') == name: return m
    cmd('qmp_capabilities'); return cmd, event
def target(direct):
    t = f'{D}/target.raw'
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'raw', t, str(2 << 30)], check=True)
    return subprocess.Popen(['qemu-storage-daemon',
        '--blockdev', f'driver=file,node-name=f1,filename={t},cache.direct={"on" if direct else "off"}',
        '--blockdev', 'driver=raw,node-name=r1,file=f1',
        '--nbd-server', f'addr.type=inet,addr.host=127.0.0.1,addr.port={PORT}',
        '--export', 'type=nbd,id=e,node-name=r1,name=t,writable=on'])
def wait_port():
    for _ in range(500):
        try: socket.create_connection(('127.0.0.1', PORT)).close(); return
        except OSError: time.sleep(0.01)
def mirror(label, direct_src=True, direct_dst=True, nbd_extra=None, **opts):
    dst = target(direct_dst); wait_port()
    sock = f'{D}/src.qmp'
    if os.path.exists(sock): os.unlink(sock)
    src = subprocess.Popen(['qemu-storage-daemon',
        '--blockdev', f'driver=file,node-name=f0,filename={SRC},cache.direct={"on" if direct_src else "off"}',
        '--blockdev', 'driver=raw,node-name=r0,file=f0',
        '--chardev', f'socket,id=m,path={sock},server=on,wait=off', '--monitor', 'chardev=m'])
    cmd, event = qmp(sock)
    t0 = time.monotonic()
    cmd('blockdev-add', {'driver': 'nbd', 'node-name': 'n', 'server': {'type': 'inet', 'host': '127.0.0.1', 'port': str(PORT)}, 'export': 't', **(nbd_extra or {})})
    cmd('blockdev-mirror', {'job-id': 'j', 'device': 'r0', 'target': 'n', 'sync': 'full', 'auto-dismiss': False, **opts})
    event('BLOCK_JOB_READY'); ms = (time.monotonic() - t0) * 1000
    cmd('block-job-cancel', {'device': 'j'}); event('BLOCK_JOB_COMPLETED')
    src.terminate(); src.wait(); dst.terminate(); dst.wait()
    alloc = os.stat(f'{D}/target.raw').st_blocks * 512 >> 20
    print(f'{label:55s} alloc {alloc:5d} MiB {ms:7.0f} ms {2048/ms*1000:7.1f} MiB/s (load {os.getloadavg()[0]:.2f})', flush=True)
def convert(label, args, direct_dst=False):
    dst = target(direct_dst); wait_port()
    t0 = time.monotonic()
    subprocess.run(['qemu-img', 'convert', '-n', *args, '-f', 'raw', '-O', 'raw', SRC, f'nbd://127.0.0.1:{PORT}/t'], check=True)
    ms = (time.monotonic() - t0) * 1000
    dst.terminate(); dst.wait()
    alloc = os.stat(f'{D}/target.raw').st_blocks * 512 >> 20
    print(f'{label:55s} alloc {alloc:5d} MiB {ms:7.0f} ms {2048/ms*1000:7.1f} MiB/s (load {os.getloadavg()[0]:.2f})', flush=True)
WB = {'copy-mode': 'write-blocking'}
# The variants of the last run; the others in the README were the same calls with
# {'copy-mode': 'background'}, {'buf-size': 64 << 20}, {'granularity': 1 << 20}, direct_dst=False.
variants = [
    ('floor', lambda: convert('convert -W -T none, dst direct', ['-W', '-T', 'none'], True)),
    ('today', lambda: mirror('mirror write-blocking (ferry today)', **WB)),
    ('unmap', lambda: mirror('mirror write-blocking, nbd node discard=unmap', nbd_extra={'discard': 'unmap'}, **WB)),
]
rounds = int(os.environ.get('ROUNDS', '3'))
for r in range(rounds):
    for i in range(len(variants)):
        variants[(i + r) % len(variants)][1]()
