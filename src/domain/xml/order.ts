/**
 * libvirt's output order of child elements (from virDomainDefFormatInternal and friends). The
 * formatter places both modelled and verbatim elements by these lists; names not listed go
 * last, in their original order.
 * @module
 */

function words(text: string): readonly string[] {
  return text.trim().split(/\s+/);
}

/** Children of <domain>. Namespaced extensions such as <qemu:commandline> come last. */
export const DOMAIN_ORDER = words(`
  name uuid genid title description metadata maxMemory memory currentMemory blkiotune memtune
  memoryBacking vcpu vcpus iothreads iothreadids defaultiothread cputune numatune resource
  sysinfo bootloader bootloader_args os idmap features cpu clock on_poweroff on_reboot on_crash
  on_lockfailure pm perf devices seclabel keywrap launchSecurity
`);

/** Children of <features> (virDomainFeature). */
export const FEATURE_ORDER = words(`
  acpi apic pae hap viridian privnet hyperv kvm pvspinlock capabilities pmu vmport gic smm ioapic
  htm nested-hv msrs ccf-assist xen cfpc sbbc ibs tcg async-teardown
`);

export const OS_ORDER = words(`
  type firmware loader nvram kernel initrd cmdline shim dtb acpi boot bootmenu smbios bios
`);

export const CPU_ORDER = words('model vendor topology cache maxphysaddr feature numa');

export const DEVICE_ORDER = words(`
  emulator disk controller lease filesystem interface smartcard serial parallel console channel
  input tpm graphics sound audio video hostdev redirdev redirfilter hub watchdog memballoon rng
  panic shmem memory iommu vsock crypto pstore
`);

export const DISK_ORDER = words(`
  driver auth source backingStore geometry blockio target iotune boot readonly shareable
  transient serial wwn vendor product encryption
`);

export const INTERFACE_ORDER = words(`
  mac source virtualport ip route script backenddomain target guest model driver backend
  filterref tune teaming link mtu coalesce boot rom
`);

export const CHARDEV_ORDER = words('source protocol log target');

export const PANIC_ORDER = words('alias address');
