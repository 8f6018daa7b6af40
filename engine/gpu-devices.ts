/**
 * The NVIDIA GPUs this process may use, read without loading CUDA: the kernel driver's version from
 * /proc/driver/nvidia/version and the devices from `nvidia-smi`, filtered by CUDA_VISIBLE_DEVICES the
 * way CUDA filters them. The first visible device is the one TensorFlow calls GPU:0, where its eager
 * ops run. Used by backend selection (to name the device at worker start) and by `npm run gpu`.
 *
 * Parsing is kept apart from reading (`parse*` are pure) so that tests can feed any machine's output.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface GpuDevice {
  /** nvidia-smi's index (PCI bus order). */
  index: number;
  uuid: string;
  name: string;
  memoryMiB: number;
  /** e.g. 9.0; NaN when the driver's nvidia-smi cannot report it. */
  computeCapability: number;
}

/** What the machine says, raw: each field null when its source is absent. */
export interface GpuFacts {
  platform: string;
  arch: string;
  /** Contents of /proc/driver/nvidia/version. */
  procVersion: string | null;
  /** stdout of the device query below, or null when nvidia-smi is missing or fails to run. */
  smiCsv: string | null;
  /** nvidia-smi's error text when it ran and failed (e.g. "No devices were found"). */
  smiError: string | null;
  cudaVisibleDevices: string | undefined;
}

export const SMI_QUERY = ['--query-gpu=index,uuid,name,memory.total,compute_cap,driver_version', '--format=csv,noheader,nounits'];

/** "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.159.04  Sun ..." -> "580.159.04". */
export function parseDriverVersion(procVersion: string | null): string | null {
  return procVersion?.match(/Kernel Module\s+(?:for \S+\s+)?(\d+\.\d+(?:\.\d+)?)/)?.[1] ?? null;
}

/** Rows of the SMI_QUERY output; the driver version is the same on every row. */
export function parseSmiCsv(csv: string): { devices: GpuDevice[]; driver: string | null } {
  const devices: GpuDevice[] = [];
  let driver: string | null = null;
  for (const line of csv.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const f = line.split(',').map((s) => s.trim());
    if (f.length < 6 || !/^\d+$/.test(f[0])) continue;
    devices.push({ index: Number(f[0]), uuid: f[1], name: f[2], memoryMiB: Number(f[3]), computeCapability: Number(f[4]) });
    driver = f[5] || driver;
  }
  return { devices, driver };
}

/**
 * The devices CUDA exposes, in CUDA's order, under CUDA_VISIBLE_DEVICES (indices or UUIDs, possibly
 * abbreviated; CUDA stops at the first entry that names no device). Unset: all of them.
 */
export function visibleDevices(all: GpuDevice[], cudaVisibleDevices: string | undefined): GpuDevice[] {
  if (cudaVisibleDevices === undefined) return all;
  const out: GpuDevice[] = [];
  for (const entry of cudaVisibleDevices.split(',').map((s) => s.trim())) {
    const d = /^\d+$/.test(entry) ? all.find((x) => x.index === Number(entry)) : all.find((x) => entry.length > 4 && x.uuid.startsWith(entry));
    if (!d || out.includes(d)) break;
    out.push(d);
  }
  return out;
}

export function readGpuFacts(): GpuFacts {
  let procVersion: string | null = null;
  try {
    procVersion = readFileSync('/proc/driver/nvidia/version', 'utf8');
  } catch {}
  const smi = (args: string[]) => spawnSync('nvidia-smi', args, { encoding: 'utf8', timeout: 15_000 });
  let r = smi(SMI_QUERY);
  let smiCsv = !r.error && r.status === 0 ? r.stdout : null;
  if (!r.error && r.status !== 0 && /compute_cap/.test(`${r.stdout}${r.stderr}`)) {
    // Drivers before ~510 cannot report compute_cap: ask without it and mark it unknown.
    r = smi([SMI_QUERY[0].replace(',compute_cap', ''), SMI_QUERY[1]]);
    if (!r.error && r.status === 0) smiCsv = r.stdout.split('\n').map((l) => l.replace(/^((?:[^,]*,){4})/, '$1 [N/A],')).join('\n');
  }
  return {
    platform: process.platform,
    arch: process.arch,
    procVersion,
    smiCsv,
    smiError: !r.error && smiCsv === null ? `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] || `exit ${r.status}` : null,
    cudaVisibleDevices: process.env.CUDA_VISIBLE_DEVICES,
  };
}

/** The device TensorFlow's GPU:0 is, or null when none can be named. */
export function firstVisibleGpu(facts: GpuFacts = readGpuFacts()): GpuDevice | null {
  if (!facts.smiCsv) return null;
  return visibleDevices(parseSmiCsv(facts.smiCsv).devices, facts.cudaVisibleDevices)[0] ?? null;
}

/** "NVIDIA H100 80GB HBM3, 81559 MiB, compute capability 9.0". */
export function describeGpu(d: GpuDevice): string {
  const cc = Number.isFinite(d.computeCapability) ? `, compute capability ${d.computeCapability.toFixed(1)}` : '';
  return `${d.name}, ${d.memoryMiB} MiB${cc}`;
}
